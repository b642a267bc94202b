# Inputs. Validations mirror functions/genmedia/config.py, so a bad value fails at plan time
# instead of as a ConfigError in every new instance after the deploy.

variable "project_id" {
  description = "Project that hosts the whole environment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 chars, lowercase, digits, hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the queue, the media bucket and the serverless NEGs."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+(-[a-z]+)+[0-9]+$", var.region))
    error_message = "region must be a region name such as us-central1."
  }
}

variable "prefix" {
  description = "Prefix of resource names, so two environments can share a project if they must."
  type        = string
  default     = "genmedia"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,14}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 2-16 chars: lowercase letters, digits and hyphens."
  }
}

variable "labels" {
  description = "Extra labels put on every resource that takes labels."
  type        = map(string)
  default     = {}
}

variable "domain" {
  description = "Public API hostname served by the load balancer (the managed certificate is for it)."
  type        = string
  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase fully qualified host name, without scheme or path."
  }
}

variable "cors_origins" {
  description = "Exact browser origins of the frontend (scheme://host[:port]); also the media bucket's CORS."
  type        = list(string)
  default     = []
  validation {
    # config.py rejects paths, wildcards and trailing slashes: an origin is compared as a string.
    condition = alltrue([
      for o in var.cors_origins : can(regex("^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", o))
    ])
    error_message = "Each CORS origin must be scheme://host[:port], lowercase, with no path or wildcard."
  }
}

variable "firestore_location" {
  description = "Firestore location (a region or a multi-region such as nam5); null means var.region."
  type        = string
  default     = null
}

variable "firestore_pitr" {
  description = "Point-in-time recovery (7 days of versions) for the Firestore database."
  type        = bool
  default     = true
}

variable "image_provider" {
  description = "Image provider of generate_image: vertex (Imagen) or local (placeholder images, for test projects)."
  type        = string
  default     = "vertex"
  validation {
    condition     = contains(["vertex", "local"], var.image_provider)
    error_message = "image_provider must be vertex or local."
  }
}

variable "vertex_location" {
  description = "Vertex AI location for Imagen; null means var.region."
  type        = string
  default     = null
}

variable "imagen_model" {
  description = "Default Imagen model when a request names none."
  type        = string
  default     = "imagen-4.0-generate-001"
  validation {
    condition     = can(regex("^[A-Za-z0-9._@-]{1,128}$", var.imagen_model))
    error_message = "imagen_model must be a model ID."
  }
}

variable "quotas" {
  description = "Default per-user quotas (admins can override them per user)."
  type = object({
    images_per_day   = optional(number, 50)
    videos_per_month = optional(number, 20)
  })
  default = {}
  validation {
    condition = alltrue([
      for v in [var.quotas.images_per_day, var.quotas.videos_per_month] :
      v >= 0 && v <= 1000000 && floor(v) == v
    ])
    error_message = "Quotas must be whole numbers between 0 and 1000000."
  }
}

variable "user_rate_limit" {
  description = "Per-user token bucket for generation, enforced by the functions (per-IP limits are in armor.tf)."
  type = object({
    burst      = optional(number, 10)
    per_minute = optional(number, 10)
  })
  default = {}
  validation {
    condition = (
      var.user_rate_limit.burst >= 1 && var.user_rate_limit.burst <= 10000 &&
      var.user_rate_limit.per_minute >= 1 && var.user_rate_limit.per_minute <= 100000
    )
    error_message = "burst must be 1-10000 and per_minute 1-100000."
  }
}

variable "resilience" {
  description = "Provider retry and circuit breaker settings of the functions, and the total time one Firestore RPC or Cloud Storage call may take, retries included, before a request answers 503 (backend_deadline_seconds)."
  type = object({
    retry_deadline_seconds    = optional(number, 30)
    retry_max_attempts        = optional(number, 4)
    breaker_failure_threshold = optional(number, 5)
    breaker_reset_seconds     = optional(number, 30)
    backend_deadline_seconds  = optional(number, 5)
  })
  default = {}
  validation {
    condition = (
      var.resilience.retry_deadline_seconds > 0 && var.resilience.retry_deadline_seconds <= 3600 &&
      var.resilience.retry_max_attempts >= 1 && var.resilience.retry_max_attempts <= 20 &&
      var.resilience.breaker_failure_threshold >= 1 && var.resilience.breaker_failure_threshold <= 1000 &&
      var.resilience.breaker_reset_seconds > 0 && var.resilience.breaker_reset_seconds <= 3600 &&
      var.resilience.backend_deadline_seconds >= 0.1 && var.resilience.backend_deadline_seconds <= 600
    )
    error_message = "Out of range: retry_deadline_seconds (0-3600], retry_max_attempts 1-20, breaker_failure_threshold 1-1000, breaker_reset_seconds (0-3600], backend_deadline_seconds 0.1-600."
  }
}

variable "max_body_bytes" {
  description = "Largest request body accepted; enforced by the functions and, from Content-Length, at the edge."
  type        = number
  default     = 65536
  validation {
    condition     = var.max_body_bytes >= 1024 && var.max_body_bytes <= 33554432
    error_message = "max_body_bytes must be between 1 KiB and 32 MiB."
  }
}

variable "signed_url_ttl_seconds" {
  description = "Lifetime of the signed media URLs returned by the API."
  type        = number
  default     = 900
  validation {
    # signBlob-signed V4 URLs are capped at 12 h in practice (API-CONVENTIONS.md).
    condition     = var.signed_url_ttl_seconds >= 60 && var.signed_url_ttl_seconds <= 43200
    error_message = "signed_url_ttl_seconds must be between 60 and 43200."
  }
}

variable "page_token_previous_version" {
  description = "During a page-token key rotation, the Secret Manager version that was current: still accepted for verification (secrets.tf). null outside a rotation."
  type        = string
  default     = null
  validation {
    condition     = var.page_token_previous_version == null || can(regex("^[0-9]+$", var.page_token_previous_version))
    error_message = "page_token_previous_version must be a version number, e.g. \"3\"."
  }
}

variable "signed_url_cache" {
  description = "Per-instance reuse of signed URLs (url_signer.py): window cap in seconds and LRU size; null keeps the code's defaults."
  type = object({
    reuse_seconds = optional(number)
    cache_size    = optional(number)
  })
  default = {}
  validation {
    condition = (
      (var.signed_url_cache.reuse_seconds == null || try(var.signed_url_cache.reuse_seconds >= 1 && var.signed_url_cache.reuse_seconds <= 302400, false)) &&
      (var.signed_url_cache.cache_size == null || try(var.signed_url_cache.cache_size >= 0 && var.signed_url_cache.cache_size <= 1000000, false))
    )
    error_message = "reuse_seconds must be 1-302400 and cache_size 0-1000000."
  }
}

variable "idempotency_ttl_hours" {
  description = "How long Idempotency-Key records are kept (Firestore TTL on idempotency.expire_time)."
  type        = number
  default     = 24
  validation {
    condition     = var.idempotency_ttl_hours >= 1 && var.idempotency_ttl_hours <= 720
    error_message = "idempotency_ttl_hours must be between 1 and 720."
  }
}

variable "purge_retention_days" {
  description = "Days a soft-deleted asset stays restorable; trash/ objects are deleted one day later."
  type        = number
  default     = 30
  validation {
    condition     = var.purge_retention_days >= 1 && var.purge_retention_days <= 3650
    error_message = "purge_retention_days must be between 1 and 3650."
  }
}

variable "moderation_denylist" {
  description = "Prompt denylist terms; empty keeps the built-in list of the code."
  type        = list(string)
  default     = []
}

variable "processing_concurrency" {
  description = "Images post-processed at once per generate_image instance (CPU bound)."
  type        = number
  default     = 2
  validation {
    condition     = var.processing_concurrency >= 1 && var.processing_concurrency <= 64
    error_message = "processing_concurrency must be between 1 and 64."
  }
}

variable "log_level" {
  description = "Log level of the functions."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "function_overrides" {
  description = "Per-function scaling overrides, keyed by function name (see local.functions)."
  type = map(object({
    min_instances = optional(number)
    max_instances = optional(number)
    concurrency   = optional(number)
  }))
  default = {}
}

variable "edge_rate_limits" {
  description = "Cloud Armor per-client-IP limits on /v1/ (the functions rate-limit per user)."
  type = object({
    api_per_minute      = optional(number, 300)
    generate_per_minute = optional(number, 30)
    ban_duration_sec    = optional(number, 600)
  })
  default = {}
}

variable "waf_mode" {
  description = "preview logs what the preconfigured WAF rules would block; enforce blocks it."
  type        = string
  default     = "preview"
  validation {
    condition     = contains(["preview", "enforce"], var.waf_mode)
    error_message = "waf_mode must be preview or enforce."
  }
}

variable "waf_sensitivity" {
  description = "Sensitivity level of the preconfigured WAF rules (1 = fewest false positives)."
  type        = number
  default     = 1
  validation {
    condition     = contains([1, 2, 3, 4], var.waf_sensitivity)
    error_message = "waf_sensitivity must be 1, 2, 3 or 4."
  }
}

variable "queue_overrides" {
  description = "Per-queue changes to functions/queues.json: rate_limits and retry_config fields by queue name, e.g. { \"video-jobs\" = { rate_limits = { max_dispatches_per_second = 5 } } }."
  type = map(object({
    rate_limits  = optional(map(number), {})
    retry_config = optional(map(string), {})
  }))
  default = {}
}

variable "alert_email" {
  description = "Address that receives the alert notifications."
  type        = string
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address."
  }
}

variable "alert_thresholds" {
  description = "Alerting thresholds."
  type = object({
    lb_5xx_ratio           = optional(number, 0.05)
    function_errors_per_5m = optional(number, 5)
    generate_p95_ms        = optional(number, 60000)
  })
  default = {}
}

variable "lb_log_sample_rate" {
  description = "Share of load balancer requests logged (Cloud Armor decisions appear in these logs)."
  type        = number
  default     = 1
  validation {
    condition     = var.lb_log_sample_rate >= 0 && var.lb_log_sample_rate <= 1
    error_message = "lb_log_sample_rate must be between 0 and 1."
  }
}

variable "video_provider" {
  description = "Video provider of the video worker: veo (Vertex AI Veo) or local (placeholder animations, for test projects)."
  type        = string
  default     = "veo"
  validation {
    condition     = contains(["veo", "local"], var.video_provider)
    error_message = "video_provider must be veo or local."
  }
}

variable "video_poll_seconds" {
  description = "How often the video worker polls a running Veo operation (and writes progress)."
  type        = number
  default     = 10
  validation {
    condition     = var.video_poll_seconds >= 1 && var.video_poll_seconds <= 600
    error_message = "video_poll_seconds must be between 1 and 600."
  }
}
