# Cloud Tasks queues, declared once in functions/queues.json (the local stack creates the same
# ones). Tasks are delivered at least once, so workers must be idempotent; dispatch limits
# protect the providers' quotas, not our functions.

locals {
  queues = {
    for name, spec in jsondecode(file("${path.module}/../functions/queues.json")).queues :
    name => {
      rate_limits  = merge(spec.rate_limits, try(var.queue_overrides[name].rate_limits, {}))
      retry_config = merge(spec.retry_config, try(var.queue_overrides[name].retry_config, {}))
    }
  }
}

resource "google_cloud_tasks_queue" "queue" {
  for_each = local.queues
  name     = each.key
  location = var.region

  rate_limits {
    max_dispatches_per_second = each.value.rate_limits.max_dispatches_per_second
    max_concurrent_dispatches = each.value.rate_limits.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = each.value.retry_config.max_attempts
    min_backoff        = each.value.retry_config.min_backoff
    max_backoff        = each.value.retry_config.max_backoff
    max_doublings      = each.value.retry_config.max_doublings
    max_retry_duration = try(each.value.retry_config.max_retry_duration, null)
  }

  stackdriver_logging_config {
    sampling_ratio = 1.0 # low volume: log every dispatch attempt
  }

  lifecycle {
    precondition {
      condition     = alltrue([for name in keys(var.queue_overrides) : contains(keys(local.queues), name)])
      error_message = "queue_overrides names a queue that functions/queues.json does not declare."
    }
  }

  depends_on = [google_project_service.enabled]
}

moved {
  from = google_cloud_tasks_queue.video_jobs
  to   = google_cloud_tasks_queue.queue["video-jobs"]
}
