from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("binance-pay/", views.binance_pay_webhook, name="binance-pay"),
    # Without the slash too: a URL typed into the merchant portal without it must not be
    # redirected (Binance does not follow redirects for a POST) and lose every webhook.
    path("binance-pay", views.binance_pay_webhook),
]
