"""Firestore repositories returning typed records.

Collections (index needs are listed in infra/firestore-indexes.md for the Terraform issue):
- ``assets/{asset_id}``: one generated image or video, owned by ``owner_uid``.
- ``usage/{uid}``: the user's counters for the current day and month plus the rate-limit bucket,
  all in one document so the charge transaction reads and writes exactly one usage document.
- ``users/{uid}``: role mirror and per-user quota overrides (set by the admin function).
- ``idempotency/{sha256(uid, key)}``: stored responses of POSTs sent with an Idempotency-Key;
  ``expire_time`` is the TTL field.
- ``moderation_events/{id}``: audit trail of blocked prompts.
"""
