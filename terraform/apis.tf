# Services the environment uses. Never disabled on destroy: other workloads in the project
# may depend on them, and re-enabling is slow.

locals {
  services = concat(
    [
      "artifactregistry.googleapis.com", # images built from the function sources
      "cloudbuild.googleapis.com",       # gen2 functions are built by Cloud Build
      "cloudfunctions.googleapis.com",
      "cloudresourcemanager.googleapis.com",
      "cloudscheduler.googleapis.com", # schedules of functions/events.json
      "cloudtasks.googleapis.com",
      "compute.googleapis.com",       # load balancer and Cloud Armor
      "firebaserules.googleapis.com", # deny-all client rules on Firestore
      "firestore.googleapis.com",
      "iam.googleapis.com",
      "iamcredentials.googleapis.com",  # signBlob for V4 signed URLs
      "identitytoolkit.googleapis.com", # Firebase Auth: revocation checks, custom claims
      "logging.googleapis.com",
      "monitoring.googleapis.com",
      "pubsub.googleapis.com",        # topics and push subscriptions of functions/events.json
      "run.googleapis.com",           # gen2 functions run as Cloud Run services
      "secretmanager.googleapis.com", # the page-token signing key
      "storage.googleapis.com",
    ],
    var.image_provider == "vertex" ? ["aiplatform.googleapis.com"] : [],
  )
}

resource "google_project_service" "enabled" {
  for_each           = toset(local.services)
  service            = each.value
  disable_on_destroy = false
}
