"""OpenAPI documentation of the orders operations (drf-spectacular); API-wide pieces (error
bodies, headers, pagination) are in paysvc.openapi.

``operations`` holds one ``extend_schema`` declaration per view method (the views in orders.apis
apply them: ``@docs.ORDERS_CREATE`` with ``from orders.schema import operations as docs``),
``examples`` the request and response examples, and ``extensions`` the schema extensions of the
validation serializers (registered on import).
"""

from orders.schema import extensions  # noqa: F401 - registers the schema extensions
