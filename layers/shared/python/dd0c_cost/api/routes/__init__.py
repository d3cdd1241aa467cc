"""One Powertools ``Router`` per concern; ``dd0c_cost.api.app`` includes them all. The topology's
``routes`` list the same (method, path) pairs (a test compares them with the OpenAPI document)."""
