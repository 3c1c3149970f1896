"""The hub's REST API (docs/api.md): personal tokens, their authentication, the error
shape, throttling and the base view every endpoint uses. The endpoints themselves live
with the data they serve (reporting/api/)."""
