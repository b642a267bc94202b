# One runtime identity per function, so each holds only what its own code calls (iam.tf),
# and a compromised function cannot act as another.
resource "google_service_account" "function" {
  for_each = local.functions
  # account_id: 6-30 chars; "fn-" keeps short names like "admin" above the minimum.
  account_id   = "fn-${substr(replace(each.key, "_", "-"), 0, 27)}"
  display_name = "GenMedia function ${each.key}"
  description  = "Runtime identity of the ${each.key} Cloud Function."

  depends_on = [google_project_service.enabled]
}

# Builds the function images. Without it, builds run as the default compute service account,
# which new projects no longer grant anything to (and old ones grant Editor).
resource "google_service_account" "builder" {
  account_id   = "${var.prefix}-builder"
  display_name = "GenMedia function builder"
  description  = "Cloud Build identity for building the GenMedia functions."

  depends_on = [google_project_service.enabled]
}

# Identity in the OIDC tokens of Cloud Tasks (and Eventarc) deliveries to private functions.
# The only principal, besides the load balancer path, that may invoke a function.
resource "google_service_account" "invoker" {
  account_id   = "${var.prefix}-invoker"
  display_name = "GenMedia private function invoker"
  description  = "Signs the OIDC tokens of task and event deliveries to private functions."

  depends_on = [google_project_service.enabled]
}
