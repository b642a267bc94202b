# Video jobs: the private worker's address and settings, Veo's staging area, and the indexes
# of the jobs queries. The worker itself is a function in functions.tf (access list there).

locals {
  # Cloud Run's deterministic URL of the worker (https://<service>-<project number>.<region>.run.app):
  # its env needs its own URL as the OIDC audience, which the function resource cannot refer to
  # without a cycle. The service is the function name with "_" written as "-".
  video_worker_url   = "https://video-worker-${data.google_project.this.number}.${var.region}.run.app"
  webhook_worker_url = "https://deliver-webhook-${data.google_project.this.number}.${var.region}.run.app"
  export_worker_url  = "https://export-worker-${data.google_project.this.number}.${var.region}.run.app"
  erasure_worker_url = "https://erasure-worker-${data.google_project.this.number}.${var.region}.run.app"
  purge_url          = "https://purge-${data.google_project.this.number}.${var.region}.run.app"

  video_env = {
    GENMEDIA_VIDEO_PROVIDER        = var.video_provider
    GENMEDIA_VIDEO_WORKER_URL      = local.video_worker_url
    GENMEDIA_TASKS_SERVICE_ACCOUNT = google_service_account.invoker.email
    GENMEDIA_VIDEO_QUEUE           = google_cloud_tasks_queue.queue["video-jobs"].name
    # The worker's last attempt fails the job instead of leaving it RUNNING.
    GENMEDIA_VIDEO_MAX_ATTEMPTS = local.queues["video-jobs"].retry_config.max_attempts
    GENMEDIA_VIDEO_POLL_SECONDS = var.video_poll_seconds
    # Longer than the worker's timeout (a delivery cut off by the dispatch deadline may still
    # be running), shorter than the queue's first backoffs add up to.
    GENMEDIA_JOB_LEASE_SECONDS = local.function_specs.video_worker.timeout_s + 30
    # Webhook deliveries: the worker's URL (its OIDC audience) and the queue's last attempt.
    GENMEDIA_WEBHOOK_WORKER_URL   = local.webhook_worker_url
    GENMEDIA_WEBHOOK_QUEUE        = google_cloud_tasks_queue.queue["webhook-deliveries"].name
    GENMEDIA_WEBHOOK_MAX_ATTEMPTS = local.queues["webhook-deliveries"].retry_config.max_attempts
    # Data export and erasure workers (services/export_worker.py, services/erasure_worker.py).
    GENMEDIA_EXPORT_WORKER_URL   = local.export_worker_url
    GENMEDIA_EXPORT_QUEUE        = google_cloud_tasks_queue.queue["exports"].name
    GENMEDIA_EXPORT_MAX_ATTEMPTS = local.queues["exports"].retry_config.max_attempts
    # Past the worker's timeout: a delivery cut off by the dispatch deadline may still run.
    GENMEDIA_EXPORT_LEASE_SECONDS = local.function_specs.export_worker.timeout_s + 30
    GENMEDIA_ERASURE_WORKER_URL   = local.erasure_worker_url
    GENMEDIA_ERASURE_QUEUE        = google_cloud_tasks_queue.queue["erasures"].name
    # A purge run out of budget enqueues the next run's CloudEvent to its own URL.
    GENMEDIA_PURGE_URL         = local.purge_url
    GENMEDIA_MAINTENANCE_QUEUE = google_cloud_tasks_queue.queue["maintenance"].name
  }

  job_filters = [[], ["state"]]

  # The sweeper's and the purge's queries: one state, oldest first by one time field.
  maintenance_indexes = {
    "assets-pending" = { collection = "assets", field = "create_time" }
    "assets-purge"   = { collection = "assets", field = "purge_time" }
    "jobs-stale"     = { collection = "jobs", field = "update_time" }
    "exports-stale"  = { collection = "exports", field = "update_time" }
    "erasures-stale" = { collection = "erasures", field = "update_time" }
  }
}

resource "google_firestore_index" "maintenance" {
  for_each   = local.maintenance_indexes
  database   = google_firestore_database.main.name
  collection = each.value.collection

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = each.value.field
    order      = "ASCENDING"
  }
}

# The jobs list: one user's jobs newest first, optionally in one state (store/jobs.py).
resource "google_firestore_index" "jobs" {
  for_each   = { for f in local.job_filters : join("-", concat(["owner"], f)) => f }
  database   = google_firestore_database.main.name
  collection = "jobs"

  fields {
    field_path = "owner_uid"
    order      = "ASCENDING"
  }
  dynamic "fields" {
    for_each = each.value
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }
  fields {
    field_path = "create_time"
    order      = "DESCENDING"
  }
}

# Veo writes its output under staging/jobs/<job>/ (output_gcs_uri) as the Vertex AI service
# agent; the worker copies it under users/ and a lifecycle rule (storage.tf) removes the rest.
resource "google_storage_bucket_iam_member" "vertex_staging_writer" {
  count  = var.video_provider == "veo" ? 1 : 0
  bucket = google_storage_bucket.media.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-aiplatform.iam.gserviceaccount.com"

  condition {
    title      = "objects-under-staging"
    expression = "resource.name.startsWith(\"${local.media_objects}staging/\")"
  }
}
