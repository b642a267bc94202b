# Root configuration for one GenMedia environment (one project).

terraform {
  # optional() defaults in object variables need 1.3; cloudbuild.yaml pins the exact binary.
  required_version = ">= 1.5.0, < 2.0.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.20"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.20"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # Partial configuration: the bucket and prefix come from `terraform init -backend-config=...`
  # (see cloudbuild.yaml), so the same code serves every environment.
  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region
  # Labels every resource that supports them, so billing reports can be split per app.
  default_labels = merge(var.labels, { app = "genmedia" })
}

# Same project and region, for the few beta-only fields we may need; kept configured so
# adding one is a one-line `provider = google-beta` rather than a provider change.
provider "google-beta" {
  project        = var.project_id
  region         = var.region
  default_labels = merge(var.labels, { app = "genmedia" })
}
