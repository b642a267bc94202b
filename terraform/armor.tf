# Cloud Armor at the edge: per-IP limits (the functions limit per user, ratelimit.py) and the
# preconfigured OWASP rules. Rules run in ascending priority and the first match decides,
# except preview rules, which only log; so WAF rules come before the rate rules that allow.

locals {
  waf_preview = var.waf_mode == "preview"

  waf_rules = {
    1000 = "sqli-v33-stable"
    1001 = "xss-v33-stable"
    1002 = "lfi-v33-stable"
    1003 = "rce-v33-stable"
    # Log4Shell (CVE-2021-44228) lookups such as ${jndi:...}: no Java runs behind the edge,
    # but such a string is never a legitimate request and would travel on into logs.
    1004 = "cve-canary"
  }
}

resource "google_compute_security_policy" "edge" {
  # checkov:skip=CKV_GCP_73: cve-canary is rule 1004 of local.waf_rules, written as evaluatePreconfiguredWaf('cve-canary', {'sensitivity': N}) and previewed while waf_mode = "preview" like the other WAF rules; the check only accepts the bare, always-enforced expression.
  name        = "${var.prefix}-edge"
  description = "GenMedia API edge policy: body size, OWASP rules, per-IP rate limits."
  type        = "CLOUD_ARMOR"

  advanced_options_config {
    # Prompts arrive as JSON: parse it so the WAF inspects values, not JSON syntax
    # (fewer false positives on punctuation-heavy prompts).
    json_parsing = "STANDARD"
    log_level    = "NORMAL"
  }

  # Body size hint: the WAF inspects only the first 8 KB of a body, so anything larger than
  # the functions accept is refused here, before it costs an invocation. Bodies between 8 KB and
  # max_body_bytes are not fully inspected: the functions' own validation is the real limit.
  # A request without Content-Length (chunked) makes the expression fail, i.e. not match.
  rule {
    priority    = 900
    action      = "deny(403)"
    description = "Body larger than the API accepts"
    match {
      expr {
        expression = "int(request.headers['content-length']) > ${var.max_body_bytes}"
      }
    }
  }

  dynamic "rule" {
    for_each = local.waf_rules
    content {
      priority    = rule.key
      action      = "deny(403)"
      preview     = local.waf_preview
      description = "Preconfigured WAF ${rule.value}"
      match {
        expr {
          expression = "evaluatePreconfiguredWaf('${rule.value}', {'sensitivity': ${var.waf_sensitivity}})"
        }
      }
    }
  }

  # Generation is the expensive call: a tighter per-IP throttle than the rest of the API.
  rule {
    priority    = 2000
    action      = "throttle"
    description = "Per-IP throttle on image generation"
    match {
      expr {
        expression = "request.path == '/v1/images:generate'"
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.edge_rate_limits.generate_per_minute
        interval_sec = 60
      }
    }
  }

  # Everything else under /v1/: throttle, and ban clients that keep hammering.
  rule {
    priority    = 2100
    action      = "rate_based_ban"
    description = "Per-IP rate limit and ban on /v1/"
    match {
      expr {
        expression = "request.path.startsWith('/v1/')"
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.edge_rate_limits.ban_duration_sec
      rate_limit_threshold {
        count        = var.edge_rate_limits.api_per_minute
        interval_sec = 60
      }
      ban_threshold {
        count        = var.edge_rate_limits.api_per_minute * 5
        interval_sec = 300
      }
    }
  }

  rule {
    priority    = 2147483647
    action      = "allow"
    description = "Default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.enabled]
}
