"""The scope adapter: Cognito's discovery and authorize endpoints as Plaid needs them (docs/cognito.md)."""
