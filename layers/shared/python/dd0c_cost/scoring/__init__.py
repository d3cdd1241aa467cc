"""Anomaly scoring: the composite scorer (``scorer``, ``engine``), its state (``baseline``, ``store``),
feedback (``feedback.record_feedback``) and the streaming detector core (``streaming``)."""
