# The web studio (web/), served by the same load balancer as the API: a Cloud Storage backend
# bucket with Cloud CDN under /, /config.json and /assets/, so the app and /v1 share one origin
# (no CORS preflight), one certificate and one URL map. Firebase Hosting was not chosen: its
# rewrites to functions end requests at 60 s, which would cut the jobs' :watch streams (held
# for up to 240 s), and they reach Cloud Run past this load balancer's Cloud Armor policy.
#
# The files are the Vite build (web/dist, built by `make setup` in the test step of
# cloudbuild.yaml, whose workspace the plan step shares); hashed assets are immutable, the
# entry points revalidate. config.json is generated here from the Firebase web app.

locals {
  web_dist = "${path.module}/../web/dist"
  # Dotfiles (the build stamp) are not part of the app.
  web_files = toset([for f in fileset(local.web_dist, "**") : f if !startswith(basename(f), ".")])
  web_types = {
    html  = "text/html; charset=utf-8"
    js    = "text/javascript; charset=utf-8"
    css   = "text/css; charset=utf-8"
    json  = "application/json"
    svg   = "image/svg+xml"
    png   = "image/png"
    webp  = "image/webp"
    ico   = "image/x-icon"
    woff2 = "font/woff2"
    txt   = "text/plain; charset=utf-8"
  }
  # The same policy as the local gateway's (infra/local/webapp.py), with Google's endpoints:
  # signed media URLs on storage.googleapis.com, the Firebase Auth SDK's token endpoints.
  web_csp = join("; ", [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https://storage.googleapis.com",
    "media-src 'self' https://storage.googleapis.com",
    "connect-src 'self' https://identitytoolkit.googleapis.com https://securetoken.googleapis.com",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ])
  web_headers = [
    "Content-Security-Policy: ${local.web_csp}",
    "Strict-Transport-Security: max-age=31536000; includeSubDomains",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: no-referrer",
    "Cross-Origin-Opener-Policy: same-origin",
  ]
  # Paths the bucket serves; every other path stays with the API's rules (routes.json).
  # Priorities follow the API's rules (their priority is their index in routes.json).
  web_routes = [
    { match = "exact", path = "/", rewrite = "/index.html" },
    { match = "exact", path = "/config.json", rewrite = null },
    { match = "prefix", path = "/assets/", rewrite = null },
  ]
}

resource "google_storage_bucket" "web" {
  # checkov:skip=CKV_GCP_78: holds only the built app, uploaded from git by every apply; any version can be rebuilt.
  # checkov:skip=CKV_GCP_62: public static files by design: a read of one reveals nothing worth an access log.
  # checkov:skip=CKV_GCP_114: the bucket serves the public web app through Cloud CDN, which reads it anonymously (web_public below).
  name                        = "${var.project_id}-${var.prefix}-web"
  location                    = var.region
  uniform_bucket_level_access = true
  force_destroy               = true # nothing here that git cannot rebuild

  versioning {
    enabled = false
  }

  depends_on = [google_project_service.enabled]
}

# Cloud CDN fetches a backend bucket's objects anonymously: the app's files are public by
# design (they are what every browser downloads). Nothing else is ever written to this bucket.
resource "google_storage_bucket_iam_member" "web_public" {
  # checkov:skip=CKV_GCP_28: the public web app's static files, served through Cloud CDN.
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_object" "web" {
  for_each      = local.web_files
  bucket        = google_storage_bucket.web.name
  name          = each.value
  source        = "${local.web_dist}/${each.value}"
  content_type  = lookup(local.web_types, reverse(split(".", each.value))[0], "application/octet-stream")
  cache_control = startswith(each.value, "assets/") ? "public, max-age=31536000, immutable" : "no-cache"
  # Replaced when the file changes, not only when its name does.
  detect_md5hash = filemd5("${local.web_dist}/${each.value}")
}

# The Firebase web app whose public config (API key, auth domain) the studio starts from.
resource "google_firebase_web_app" "studio" {
  provider        = google-beta
  project         = var.project_id
  display_name    = "GenMedia Studio"
  deletion_policy = "DELETE"

  depends_on = [google_project_service.enabled]
}

data "google_firebase_web_app_config" "studio" {
  provider   = google-beta
  project    = var.project_id
  web_app_id = google_firebase_web_app.studio.app_id
}

resource "google_storage_bucket_object" "web_config" {
  bucket        = google_storage_bucket.web.name
  name          = "config.json"
  content_type  = "application/json"
  cache_control = "no-cache"
  content = jsonencode({
    apiKey     = data.google_firebase_web_app_config.studio.api_key
    projectId  = var.project_id
    authDomain = data.google_firebase_web_app_config.studio.auth_domain
  })
}

resource "google_compute_backend_bucket" "web" {
  name                    = "${var.prefix}-web"
  description             = "GenMedia Studio (web/dist) with Cloud CDN."
  bucket_name             = google_storage_bucket.web.name
  enable_cdn              = true
  compression_mode        = "AUTOMATIC"
  custom_response_headers = local.web_headers

  cdn_policy {
    # Cache-Control set on each object decides: hashed assets for a year, entry points revalidate.
    cache_mode       = "USE_ORIGIN_HEADERS"
    negative_caching = false
  }

  lifecycle {
    precondition {
      condition     = fileexists("${local.web_dist}/index.html")
      error_message = "web/dist/index.html is missing: build the studio first (make setup)."
    }
  }
}
