"""Staff roles: the groups "Support" and "Finance" and the custom permissions they use.

Support sees everything (every paysvc model, read-only) and may sync an order with Binance.
Finance is Support plus closing and refunding orders, reprocessing webhook events and
redelivering merchant callbacks. The custom permissions belong in their models' Meta.permissions;
they are created here too (get_or_create, same codenames) so that this migration does not depend
on when those Meta changes land. Permissions and content types are created here because Django
only creates them after all migrations ran (post_migrate). Safe to run again; the groups'
other permissions are left as staff set them.
"""

from django.db import migrations

# (app_label, model): the models staff see. Frozen here: a later model gets a later migration.
VIEWED_MODELS = (
    ("orders", "order"),
    ("orders", "refund"),
    ("orders", "accountshare"),
    ("orders", "orderevent"),
    ("webhooks", "webhookevent"),
    ("notifications", "notification"),
    ("notifications", "notificationattempt"),
    ("clients", "clientapplication"),
    ("clients", "apikey"),
    ("campaigns", "task"),
    ("campaigns", "customeridentifier"),
)
CUSTOM = {
    ("orders", "order", "sync_order"): "Can sync an order with Binance",
    ("orders", "order", "close_order"): "Can close an order at Binance",
    ("orders", "order", "refund_order"): "Can refund an order",
    ("webhooks", "webhookevent", "reprocess_webhookevent"): "Can reprocess a webhook event",
    ("notifications", "notification", "redeliver_notification"): (
        "Can redeliver a merchant notification"
    ),
}
SUPPORT_EXTRA = (("orders", "sync_order"),)
FINANCE_EXTRA = (
    ("orders", "sync_order"),
    ("orders", "close_order"),
    ("orders", "refund_order"),
    ("webhooks", "reprocess_webhookevent"),
    ("notifications", "redeliver_notification"),
)


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias

    def content_type(app_label, model):
        verbose = apps.get_model(app_label, model)._meta.verbose_name_raw
        ct, _ = ContentType.objects.using(alias).get_or_create(app_label=app_label, model=model)
        return ct, verbose

    def permission(app_label, model, codename, name):
        ct, _verbose = content_type(app_label, model)
        perm, _ = Permission.objects.using(alias).get_or_create(
            content_type=ct, codename=codename, defaults={"name": name}
        )
        return perm

    views = []
    for app_label, model in VIEWED_MODELS:
        _ct, verbose = content_type(app_label, model)
        views.append(permission(app_label, model, f"view_{model}", f"Can view {verbose}"))
    custom = {
        (app_label, codename): permission(app_label, model, codename, name)
        for (app_label, model, codename), name in CUSTOM.items()
    }
    support, _ = Group.objects.using(alias).get_or_create(name="Support")
    support.permissions.add(*views, *(custom[key] for key in SUPPORT_EXTRA))
    finance, _ = Group.objects.using(alias).get_or_create(name="Finance")
    finance.permissions.add(*views, *(custom[key] for key in FINANCE_EXTRA))


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=["Support", "Finance"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("orders", "0002_reconciliation_schedule"),
        ("webhooks", "0001_initial"),
        ("notifications", "0001_initial"),
        ("clients", "0001_initial"),
        ("campaigns", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
