from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Binance Pay orders"

    def ready(self) -> None:
        from orders import gauges  # noqa: F401 - registers the /metrics state gauges
