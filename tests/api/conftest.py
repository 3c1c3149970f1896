import pytest
from rest_framework.test import APIClient

from bpij.api import tokens


def token_client(user, name: str = "test") -> APIClient:
    """A client sending a fresh personal token of ``user`` (no session)."""
    _, secret = tokens.token_create(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def api_for(db):
    return token_client
