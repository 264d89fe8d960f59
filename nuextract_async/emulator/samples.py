"""Sample templates and projects, so a fresh emulator has something to work on."""

from __future__ import annotations

from typing import Any

from ._store import Store

__all__ = ["TEMPLATES", "seed_samples"]

TEMPLATES: dict[str, dict[str, Any]] = {
    "order-delivery": {
        "orderId": "verbatim-string",
        "customerId": "verbatim-string",
        "orderDate": "date-time",
        "status": ["pending", "processed", "shipped", "delivered", "cancelled"],
        "totalAmount": "number",
        "currency": "string",
        "items": [{"productId": "string", "quantity": "number", "unitPrice": "number"}],
        "shippingAddress": {
            "street": "string",
            "city": "string",
            "state": "string",
            "country": "string",
            "zip": "string",
        },
        "comments": "string",
        "deliveryPreferences": [
            [
                "contactless_delivery",
                "signature_required",
                "leave_at_door",
                "pickup_from_store",
                "deliver_to_neighbor",
                "schedule_delivery",
            ]
        ],
        "estimatedDelivery": "date-time",
    },
    "vacation": {
        "destination": {
            "name": "verbatim-string",
            "zip_code": "string",
            "country": "string",
        },
        "accommodation": "verbatim-string",
        "activities": ["verbatim-string"],
        "duration": {
            "time_unit": ["day", "week", "month", "year"],
            "time_quantity": "integer",
        },
    },
}


def seed_samples(
    store: Store, *, owner_user: str = "user-1", organization: str = "org-1"
) -> list[dict[str, Any]]:
    """Add four sample projects of ``owner_user`` and return copies of them.

    Two personal ones (the second locked), one of ``organization`` and one
    personal reference (shared) project.
    """
    orders, vacation = TEMPLATES["order-delivery"], TEMPLATES["vacation"]
    return [
        store.add_project(
            owner_user=owner_user,
            name="Order delivery",
            description="Orders, their items and delivery preferences.",
            template=orders,
        ),
        store.add_project(
            owner_user=owner_user,
            name="Vacation plans",
            description="Destination, stay and activities of a trip.",
            template=vacation,
            locked=True,
        ),
        store.add_project(
            owner_user=owner_user,
            name="Team order intake",
            description="Orders handled by the whole team.",
            template=orders,
            owner_organization=organization,
        ),
        store.add_project(
            owner_user=owner_user,
            name="Reference vacation",
            description="A reference project everyone may read and duplicate.",
            template=vacation,
            shared=True,
        ),
    ]
