# Queue of the video pipeline. Tasks are delivered at least once, so workers must be idempotent;
# dispatch limits protect the video provider's quota, not our functions.

resource "google_cloud_tasks_queue" "video_jobs" {
  name     = "video-jobs" # the name the code and the local stack use (infra/local/services.py)
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.video_jobs_queue.max_dispatches_per_second
    max_concurrent_dispatches = var.video_jobs_queue.max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.video_jobs_queue.max_attempts
    min_backoff        = var.video_jobs_queue.min_backoff
    max_backoff        = var.video_jobs_queue.max_backoff
    max_doublings      = 4
    max_retry_duration = "3600s" # a job not done within an hour is failed, not retried forever
  }

  stackdriver_logging_config {
    sampling_ratio = 1.0 # low volume: log every dispatch attempt
  }

  depends_on = [google_project_service.enabled]
}
