# Alerts that page a human: the API failing (5xx at the edge), a function logging errors,
# generation getting slow, and a provider circuit breaker opening.

locals {
  # Cloud Run service names of the functions (generate_image runs as "generate-image").
  run_services = {
    for fn in keys(local.functions) :
    fn => basename(google_cloudfunctions2_function.fn[fn].service_config[0].service)
  }
  run_service_regex = "^(${join("|", values(local.run_services))})$"
}

resource "google_monitoring_notification_channel" "email" {
  display_name = "GenMedia alerts (${var.alert_email})"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "lb_5xx_ratio" {
  display_name          = "GenMedia: 5xx ratio at the load balancer"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "5xx / all requests > ${var.alert_thresholds.lb_5xx_ratio} for 5 min"
    condition_threshold {
      filter             = "resource.type = \"https_lb_rule\" AND resource.label.url_map_name = \"${google_compute_url_map.api.name}\" AND metric.type = \"loadbalancing.googleapis.com/https/request_count\" AND metric.label.response_code_class = 500"
      denominator_filter = "resource.type = \"https_lb_rule\" AND resource.label.url_map_name = \"${google_compute_url_map.api.name}\" AND metric.type = \"loadbalancing.googleapis.com/https/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_thresholds.lb_5xx_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${var.alert_thresholds.lb_5xx_ratio * 100}% of API requests end in 5xx. 503s with code PROVIDER_UNAVAILABLE mean the image provider is failing (see the circuit breaker alert); 500s are bugs: check the function error logs by request_id."
  }
}

# Every line a function logs at ERROR or above, including the access line of each 5xx.
resource "google_logging_metric" "function_errors" {
  name   = "${var.prefix}_function_errors"
  filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name =~ \"${local.run_service_regex}\" AND severity >= ERROR"

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "service"
      value_type  = "STRING"
      description = "Cloud Run service of the function."
    }
  }
  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

resource "google_monitoring_alert_policy" "function_errors" {
  display_name          = "GenMedia: function errors"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "More than ${var.alert_thresholds.function_errors_per_5m} ERROR logs in 5 min"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.function_errors.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_thresholds.function_errors_per_5m
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.service"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A GenMedia function logs errors. In Logs Explorer: resource.type=\"cloud_run_revision\" severity>=ERROR, grouped by labels.request_id."
  }
}

resource "google_monitoring_alert_policy" "generate_latency" {
  display_name          = "GenMedia: generate_image p95 latency"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "p95 > ${var.alert_thresholds.generate_p95_ms} ms for 10 min"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.label.service_name = \"${local.run_services["generate_image"]}\" AND metric.type = \"run.googleapis.com/request_latencies\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_thresholds.generate_p95_ms
      duration        = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Image generation is slow. Usually the provider (Imagen) is slow or retrying: look for 'retrying' warnings from genmedia.retry. Also check instance count against max_instances."
  }
}

# breaker.CircuitBreaker._open logs WARNING "circuit <name> opened" from logger
# genmedia.breaker, with jsonPayload.breaker = <name>, once per opening per instance.
resource "google_logging_metric" "breaker_open" {
  name   = "${var.prefix}_circuit_breaker_open"
  filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name =~ \"${local.run_service_regex}\" AND jsonPayload.logger = \"genmedia.breaker\" AND jsonPayload.message =~ \"^circuit .+ opened$\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key         = "breaker"
      value_type  = "STRING"
      description = "Provider whose circuit opened."
    }
  }
  label_extractors = {
    breaker = "EXTRACT(jsonPayload.breaker)"
  }
}

resource "google_monitoring_alert_policy" "breaker_open" {
  display_name          = "GenMedia: provider circuit breaker opened"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "A circuit breaker opened"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.breaker_open.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.label.breaker"]
      }
    }
  }

  alert_strategy {
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Consecutive provider failures opened a circuit breaker: generate_image answers 503 PROVIDER_UNAVAILABLE until a trial call succeeds. Check the provider's status and quota (Vertex AI), and /v1/readyz for breaker states."
  }
}
