"""Delivery: everything the gateway sends out (webhook deliveries, AS2 documents,
acknowledgments and MDNs) under the one egress policy for outbound HTTP."""
