"""Outbound webhooks (Standard Webhooks v1): signing, the SSRF policy, event payloads and one
delivery attempt. A pure library: no Firestore, no HTTP-framework types; callers pass in the
settings (e.g. whether loopback http is allowed) and own the retry schedule and storage."""
