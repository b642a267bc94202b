# One Cloud Function (gen2) per entry point in functions/main.py, named as the entry point.
# Adding a function is one line in function_specs (plus its routes in functions/routes.json if
# it is public: a function no route names is private and gets internal-only ingress).
#
# access lists what the code calls; iam.tf turns each item into one scoped grant:
#   firestore / firestore_read   Firestore read-write / read-only
#   auth_read / auth_admin       Firebase Auth: revocation checks / custom claims, revocation and
#                                disabling an account
#   auth_erase                   Firebase Auth: delete an account (the erasure worker only)
#   media_write / media_read / media_delete   objects under users/ in the media bucket
#   media_trash                  read, create and delete under trash/ (soft delete moves objects)
#   sign_urls                    signBlob as itself, for V4 signed URLs
#   vertex                       Imagen on Vertex AI (dropped when image_provider = "local")
#   bucket_probe / queue_probe   bucket metadata / list queues, for readiness (/v1/readyz, and
#                                the per-instance /readyz on a function's own URL)
#   enqueue                      add tasks to video-jobs with an OIDC token for the invoker
#   media_staging                read and delete under staging/ (Veo's output, before the copy)
#   media_exports                read, create and delete under exports/ (data export ZIPs)
#   exports_read                 read under exports/ (what the download URLs it signs grant)
#   media_list                   list object names in the media bucket (orphan scan, erasure)
#   page_tokens                  read the page-token signing key (secrets.tf)

locals {
  function_specs = {
    health           = { memory = "512Mi", concurrency = 40, max_instances = 5, timeout_s = 30, access = ["firestore_read", "bucket_probe", "queue_probe"] }
    generate_image   = { memory = "1Gi", concurrency = 8, max_instances = 20, timeout_s = 120, access = ["firestore", "auth_read", "media_write", "media_read", "media_delete", "vertex", "bucket_probe", "queue_probe"] }
    issue_signed_url = { memory = "512Mi", concurrency = 40, max_instances = 10, timeout_s = 30, access = ["firestore_read", "auth_read", "media_read", "sign_urls"] }
    library          = { memory = "512Mi", concurrency = 20, max_instances = 10, timeout_s = 60, access = ["firestore", "auth_read", "media_read", "media_write", "media_delete", "media_trash", "page_tokens"] }
    admin            = { memory = "512Mi", concurrency = 20, max_instances = 3, timeout_s = 30, access = ["firestore", "auth_admin", "page_tokens"] }
    generate_video   = { memory = "512Mi", concurrency = 20, max_instances = 10, timeout_s = 30, access = ["firestore", "auth_read", "enqueue", "bucket_probe", "queue_probe"] }
    # timeout_s above the 240 s a :watch stream lasts (services/job_events.py) before the client reconnects.
    jobs     = { memory = "512Mi", concurrency = 80, max_instances = 10, timeout_s = 290, access = ["firestore", "auth_read", "page_tokens", "enqueue"] }
    webhooks = { memory = "512Mi", concurrency = 20, max_instances = 5, timeout_s = 30, access = ["firestore", "auth_read"] }
    # Private: one delivery attempt per task (a receiver gets 15 s).
    deliver_webhook = { memory = "512Mi", concurrency = 20, max_instances = 10, timeout_s = 60, access = ["firestore"] }
    # Event functions (private; pushed to by the subscriptions of functions/events.json). One
    # instance, one event at a time: runs never overlap, and the purge stops at 240 s.
    sweeper = { memory = "512Mi", concurrency = 1, max_instances = 1, timeout_s = 280, access = ["firestore", "enqueue", "media_list", "media_delete"] }
    purge   = { memory = "512Mi", concurrency = 1, max_instances = 1, timeout_s = 290, access = ["firestore", "media_delete", "media_trash", "enqueue"] }
    # The caller's own account: export requests and downloads, erasure requests.
    account = { memory = "512Mi", concurrency = 20, max_instances = 5, timeout_s = 30, access = ["firestore", "auth_admin", "enqueue", "sign_urls", "exports_read"] }
    # Private: one export per task; the ZIP streams (bounded memory) within the 30-minute
    # dispatch deadline Cloud Tasks allows.
    export_worker = { memory = "1Gi", concurrency = 2, max_instances = 5, timeout_s = 1800, access = ["firestore", "media_read", "media_exports"] }
    # Private: one bounded step of an erasure per task (services/erasure_worker.py: 240 s).
    erasure_worker = { memory = "512Mi", concurrency = 4, max_instances = 3, timeout_s = 300, access = ["firestore", "auth_erase", "media_list", "media_delete", "media_trash", "media_exports", "enqueue"] }
    # Private: Cloud Tasks delivers each step of a job; a step polls once, so no request is long.
    video_worker = { memory = "1Gi", concurrency = 4, max_instances = 10, timeout_s = 120, access = ["firestore", "media_write", "media_read", "media_delete", "media_staging", "vertex", "enqueue"] }
  }

  functions = {
    for name, spec in local.function_specs : name => {
      memory        = spec.memory
      timeout_s     = spec.timeout_s
      min_instances = coalesce(try(var.function_overrides[name].min_instances, null), 0)
      max_instances = coalesce(try(var.function_overrides[name].max_instances, null), spec.max_instances)
      concurrency   = coalesce(try(var.function_overrides[name].concurrency, null), spec.concurrency)
      access = [
        for a in spec.access : a
        if a != "vertex" || (name == "video_worker" ? var.video_provider == "veo" : var.image_provider == "vertex")
      ]
      public = contains(local.public_functions, name)
    }
  }

  # Every variable functions/genmedia/config.py reads, from the variables. Emulator and test-fake
  # variables are deliberately absent: config.py refuses to start with them on Cloud Run.
  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    # generate_image gets its response's URLs from issue_signed_url through the public API.
    GENMEDIA_PUBLIC_BASE_URL           = "https://${var.domain}"
    GENMEDIA_REGION                    = var.region
    GENMEDIA_MEDIA_BUCKET              = google_storage_bucket.media.name
    GENMEDIA_MAX_BODY_BYTES            = var.max_body_bytes
    GENMEDIA_IMAGE_PROVIDER            = var.image_provider
    GENMEDIA_VERTEX_LOCATION           = coalesce(var.vertex_location, var.region)
    GENMEDIA_IMAGEN_MODEL              = var.imagen_model
    GENMEDIA_QUOTA_IMAGES_PER_DAY      = var.quotas.images_per_day
    GENMEDIA_QUOTA_VIDEOS_PER_MONTH    = var.quotas.videos_per_month
    GENMEDIA_RATE_LIMIT_BURST          = var.user_rate_limit.burst
    GENMEDIA_RATE_LIMIT_PER_MINUTE     = var.user_rate_limit.per_minute
    GENMEDIA_BREAKER_FAILURE_THRESHOLD = var.resilience.breaker_failure_threshold
    GENMEDIA_BREAKER_RESET_SECONDS     = var.resilience.breaker_reset_seconds
    GENMEDIA_RETRY_DEADLINE_SECONDS    = var.resilience.retry_deadline_seconds
    GENMEDIA_RETRY_MAX_ATTEMPTS        = var.resilience.retry_max_attempts
    GENMEDIA_BACKEND_DEADLINE_SECONDS  = var.resilience.backend_deadline_seconds
    GENMEDIA_SIGNED_URL_TTL_SECONDS    = var.signed_url_ttl_seconds
    GENMEDIA_SIGNED_URL_REUSE_SECONDS  = var.signed_url_cache.reuse_seconds
    GENMEDIA_SIGNED_URL_CACHE_SIZE     = var.signed_url_cache.cache_size
    GENMEDIA_IDEMPOTENCY_TTL_HOURS     = var.idempotency_ttl_hours
    GENMEDIA_PURGE_RETENTION_DAYS      = var.purge_retention_days
    GENMEDIA_PROCESSING_CONCURRENCY    = var.processing_concurrency
    GENMEDIA_TASKS_LOCATION            = google_cloud_tasks_queue.queue["video-jobs"].location
    GENMEDIA_LOG_LEVEL                 = var.log_level
    # Unset rather than empty when not configured, so the code's own defaults apply.
    GENMEDIA_CORS_ORIGINS        = length(var.cors_origins) > 0 ? join(",", var.cors_origins) : null
    GENMEDIA_MODERATION_DENYLIST = length(var.moderation_denylist) > 0 ? join(",", var.moderation_denylist) : null
  }
}

resource "google_cloudfunctions2_function" "fn" {
  # checkov:skip=CKV_GCP_124: ingress_settings is ALLOW_INTERNAL_AND_GCLB for public functions (only the load balancer and Cloud Armor reach them) and ALLOW_INTERNAL_ONLY for private ones; never ALLOW_ALL, but checkov cannot evaluate the per-function conditional.
  for_each    = local.functions
  name        = each.key
  location    = var.region
  description = "GenMedia ${each.key} (${each.value.public ? "public, behind the load balancer" : "private"})"

  build_config {
    runtime           = "python311"
    entry_point       = each.key
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.functions.name
      }
    }
  }

  service_config {
    service_account_email = google_service_account.function[each.key].email
    available_memory      = each.value.memory
    # More than one concurrent request per instance requires a whole vCPU.
    available_cpu                    = "1"
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = each.value.min_instances
    max_instance_count               = each.value.max_instances
    timeout_seconds                  = each.value.timeout_s
    ingress_settings                 = each.value.public ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true

    environment_variables = merge(
      { for k, v in merge(local.common_env, local.video_env) : k => tostring(v) if v != null },
      # functions-framework serves with gunicorn threads = 4 x CPUs unless told: match the
      # concurrency Cloud Run sends, or requests queue inside the instance.
      { THREADS = tostring(each.value.concurrency) },
      # Sign as this function's own account explicitly rather than asking the metadata server.
      contains(each.value.access, "sign_urls") ? {
        GENMEDIA_SIGNING_SERVICE_ACCOUNT = google_service_account.function[each.key].email
      } : {},
    )

    dynamic "secret_environment_variables" {
      for_each = contains(each.value.access, "page_tokens") ? local.page_token_secrets : {}
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.page_token_key.secret_id
        version    = secret_environment_variables.value
      }
    }
  }

  lifecycle {
    precondition {
      condition     = alltrue([for a in each.value.access : contains(local.known_capabilities, a)])
      error_message = "Unknown capability in ${each.key}.access; see the list at the top of functions.tf."
    }
    precondition {
      condition     = alltrue([for k in keys(var.function_overrides) : contains(keys(local.function_specs), k)])
      error_message = "function_overrides names a function that is not in local.function_specs."
    }
    precondition {
      # The Idempotency-Key lease is 5 minutes (idempotency.LEASE): a request that outlives it
      # could run twice.
      condition     = each.value.timeout_s < 300
      error_message = "${each.key}: timeout_s must stay under the 300 s idempotency lease."
    }
  }

  # The first request after a deploy must find its permissions already in place.
  depends_on = [
    google_project_iam_member.function,
    google_storage_bucket_iam_member.function,
    google_service_account_iam_member.self_signer,
    google_project_iam_member.builder_logs,
    google_project_iam_member.builder_sources,
    google_artifact_registry_repository_iam_member.builder,
    google_secret_manager_secret_iam_member.page_token_reader,
    google_secret_manager_secret_version.page_token_key,
  ]
}
