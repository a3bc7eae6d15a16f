"""Create Order v2 or v3 per client application: new applications default to v3 (what Binance
asks for), applications that exist already keep v2, the endpoint their integration was tested
with, until staff switch them (docs/binance-pay-v3.md)."""

from django.db import migrations, models


def existing_stay_on_v2(apps, schema_editor):
    apps.get_model("clients", "ClientApplication").objects.update(order_api_version="v2")


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="clientapplication",
            name="order_api_version",
            field=models.CharField(
                choices=[("v2", "Create Order v2"), ("v3", "Create Order v3")],
                default="v3",
                help_text="The Binance Create Order endpoint of this application's new orders.",
                max_length=2,
            ),
        ),
        migrations.RunPython(existing_stay_on_v2, migrations.RunPython.noop),
    ]
