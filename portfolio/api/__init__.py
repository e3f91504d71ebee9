"""The API for partner systems: OAuth2 client credentials, the submissions of one organisation."""
