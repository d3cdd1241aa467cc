"""The inventory's sections, one module per family of resources: each reads one region's
Describe/List answers into ``Resource`` descriptions (``dd0c_cost.zombies.inventory`` runs them)."""
