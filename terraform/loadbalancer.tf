# Global external Application Load Balancer: the only public entry point. Its URL map is
# generated from functions/routes.json, the routing table the local gateway also reads
# (infra/local/gateway.py), so local and deployed routing cannot drift apart.

locals {
  routing          = jsondecode(file("${path.module}/../functions/routes.json"))
  routes           = local.routing.routes
  public_functions = toset([for r in local.routes : r.function])

  # Paths no rule matches go here; its router answers them 404 problem+json, as the local
  # gateway does.
  fallback_function = "health"
}

resource "google_compute_global_address" "api" {
  name = "${var.prefix}-api"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_region_network_endpoint_group" "fn" {
  for_each              = local.public_functions
  name                  = "${var.prefix}-${replace(each.key, "_", "-")}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"
  # A gen2 function is a Cloud Run service; the NEG targets that service.
  cloud_run {
    service = basename(google_cloudfunctions2_function.fn[each.key].service_config[0].service)
  }

  lifecycle {
    create_before_destroy = true # a NEG in use by a backend service cannot be deleted first
  }
}

resource "google_compute_backend_service" "fn" {
  for_each              = local.public_functions
  name                  = "${var.prefix}-${replace(each.key, "_", "-")}"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  security_policy       = google_compute_security_policy.edge.id
  # No protocol, port, timeout_sec or health checks: serverless NEGs take none of them (the
  # function's own timeout applies).

  backend {
    group = google_compute_region_network_endpoint_group.fn[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = var.lb_log_sample_rate
  }
}

resource "google_compute_url_map" "api" {
  name            = "${var.prefix}-api"
  default_service = google_compute_backend_service.fn[local.fallback_function].id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "routes"
  }

  path_matcher {
    name            = "routes"
    default_service = google_compute_backend_service.fn[local.fallback_function].id

    # routes.json is first-match-wins; route rules run in ascending priority, so the index
    # of a rule in the file is its priority.
    dynamic "route_rules" {
      for_each = local.routes
      content {
        priority = route_rules.key
        service  = google_compute_backend_service.fn[route_rules.value.function].id
        match_rules {
          full_path_match = route_rules.value.match == "exact" ? route_rules.value.path : null
          prefix_match    = route_rules.value.match == "prefix" ? route_rules.value.path : null
          regex_match     = route_rules.value.match == "regex" ? route_rules.value.path : null
        }
      }
    }

    # The web studio's paths (web.tf), after every API rule.
    dynamic "route_rules" {
      for_each = local.web_routes
      content {
        priority = length(local.routes) + route_rules.key
        service  = google_compute_backend_bucket.web.id
        match_rules {
          full_path_match = route_rules.value.match == "exact" ? route_rules.value.path : null
          prefix_match    = route_rules.value.match == "prefix" ? route_rules.value.path : null
        }
        dynamic "route_action" {
          for_each = route_rules.value.rewrite == null ? [] : [route_rules.value.rewrite]
          content {
            url_rewrite {
              path_prefix_rewrite = route_action.value
            }
          }
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = alltrue([for r in local.routes : contains(["exact", "prefix", "regex"], r.match)])
      error_message = "functions/routes.json: match must be exact, prefix or regex."
    }
    precondition {
      condition     = keys(local.routing.functions) == keys(local.function_specs)
      error_message = "functions/routes.json \"functions\" and local.function_specs (functions.tf) must name the same functions."
    }
    precondition {
      condition     = alltrue([for f in values(local.routing.functions) : contains(["http", "event"], f.kind)])
      error_message = "functions/routes.json: kind must be http or event."
    }
    precondition {
      # Event functions are reached only by their push subscriptions (events.tf), never by a route.
      condition     = alltrue([for name, f in local.routing.functions : f.kind == "http" || !contains(local.public_functions, name)])
      error_message = "functions/routes.json: an event function must not be named by a route."
    }
    precondition {
      condition     = contains(local.public_functions, local.fallback_function)
      error_message = "The fallback function must be public (named by a route)."
    }
  }
}

# Certificate names are immutable: a new domain gets a new certificate before the old one goes.
resource "google_compute_managed_ssl_certificate" "api" {
  name = "${var.prefix}-api-${substr(sha1(var.domain), 0, 8)}"
  managed {
    domains = [var.domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "modern" {
  name            = "${var.prefix}-tls12-modern"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_target_https_proxy" "api" {
  name             = "${var.prefix}-api"
  url_map          = google_compute_url_map.api.id
  ssl_certificates = [google_compute_managed_ssl_certificate.api.id]
  ssl_policy       = google_compute_ssl_policy.modern.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "${var.prefix}-https"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.api.id
  ip_protocol           = "TCP"
  port_range            = "443"
  target                = google_compute_target_https_proxy.api.id
}

# Plain HTTP only redirects. 308 rather than 301 so a POST stays a POST.
resource "google_compute_url_map" "http_redirect" {
  name = "${var.prefix}-http-redirect"
  default_url_redirect {
    https_redirect         = true
    strip_query            = false
    redirect_response_code = "PERMANENT_REDIRECT"
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "${var.prefix}-http-redirect"
  url_map = google_compute_url_map.http_redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "${var.prefix}-http"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  ip_address            = google_compute_global_address.api.id
  ip_protocol           = "TCP"
  port_range            = "80"
  target                = google_compute_target_http_proxy.redirect.id
}
