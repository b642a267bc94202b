"""Firestore, and nothing else touches it: one repository per collection, typed records.

- ``assets/{asset_id}``: ``assets.AssetRepository``; created by generate_image, read and
  trashed by library, read by issue_signed_url.
- ``usage/{uid}``: ``usage.UsageRepository``; quota charges and refunds.
- ``users/{uid}``: ``users.UserRepository``; role mirror and quota overrides (admin).
- ``idempotency/{sha256(uid, key)}``: ``idempotency.IdempotencyRepository``; routes declared
  idempotent.
- ``moderation_events/{id}``: ``moderation.ModerationEventRepository``; blocked prompts.
- ``exports/{export_id}``, ``erasures/{pseudonym}``: data exports and account erasures;
  ``owned.OwnedData`` pages and deletes everything one user owns, across collections.

Records and their (de)serialisation are in ``records``; transactions run through
``Database.run_transaction`` (``transactions.run_transaction``). Index needs are listed in
infra/firestore-indexes.md.
"""
