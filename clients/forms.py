"""Admin forms for actions that are not plain model edits."""

from django import forms

from clients.models import ClientApplication
from clients.scopes import ALL_SCOPES, DEFAULT_SCOPES


class ApiKeyCreateForm(forms.Form):
    """Input of the admin's "add API key" page (the key itself is generated, never typed)."""

    application = forms.ModelChoiceField(queryset=ClientApplication.objects.filter(is_active=True))
    name = forms.CharField(max_length=100, help_text="What the key is for, e.g. 'shop backend'.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in ALL_SCOPES],
        initial=list(DEFAULT_SCOPES),
        widget=forms.CheckboxSelectMultiple,
    )
