# Pub/Sub topics, push subscriptions and Cloud Scheduler jobs, declared once in
# functions/events.json (the local stack creates the same ones in Google's Pub/Sub emulator).
#
# Cloud Scheduler publishes to a topic; a push subscription delivers each message to the event
# function's URL with an OIDC token for the invoker account (iam.tf lets only it invoke private
# functions), retrying per retry_policy and dead-lettering after max_delivery_attempts.
# functions-framework turns the raw push into a CloudEvent
# (google.cloud.pubsub.topic.v1.messagePublished) and takes its source topic from the request
# path, so the endpoint is <function url>/projects/<project>/topics/<topic>.

locals {
  events = jsondecode(file("${path.module}/../functions/events.json"))

  dead_letter_topics = distinct(concat(
    [for t in values(local.events.topics) : t.dead_letter_topic if try(t.dead_letter_topic, null) != null],
    [for s in values(local.events.subscriptions) : s.dead_letter.topic if try(s.dead_letter, null) != null],
  ))
  event_topics = toset(distinct(concat(keys(local.events.topics), local.dead_letter_topics)))

  subscriptions_with_dead_letter = {
    for name, s in local.events.subscriptions : name => s if try(s.dead_letter, null) != null
  }

  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

data "google_project" "this" {
  project_id = var.project_id
}

resource "google_pubsub_topic" "topic" {
  # checkov:skip=CKV_GCP_83: the topics carry only the static Cloud Scheduler payloads of functions/events.json (and their dead letters), no user data; Google-managed encryption at rest is enough and a KMS key would be one more thing to rotate and keep alive.
  for_each = local.event_topics
  name     = each.key

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "push" {
  for_each             = local.events.subscriptions
  name                 = each.key
  topic                = google_pubsub_topic.topic[each.value.topic].id
  ack_deadline_seconds = try(each.value.ack_deadline_seconds, 10)

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.topic}"
    oidc_token {
      service_account_email = google_service_account.invoker.email
      # Cloud Run checks the audience against the service URL, not the push path.
      audience = google_cloudfunctions2_function.fn[each.value.function].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = try(each.value.retry_policy.minimum_backoff, "10s")
    maximum_backoff = try(each.value.retry_policy.maximum_backoff, "600s")
  }

  dynamic "dead_letter_policy" {
    for_each = try(each.value.dead_letter, null) != null ? [each.value.dead_letter] : []
    content {
      dead_letter_topic     = google_pubsub_topic.topic[dead_letter_policy.value.topic].id
      max_delivery_attempts = try(dead_letter_policy.value.max_delivery_attempts, 5)
    }
  }

  lifecycle {
    precondition {
      condition     = contains(keys(local.functions), each.value.function)
      error_message = "functions/events.json: subscription ${each.key} pushes to ${each.value.function}, which is not in local.function_specs."
    }
  }

  depends_on = [
    google_service_account_iam_member.pubsub_agent_token_creator,
    google_cloud_run_v2_service_iam_member.private,
  ]
}

resource "google_cloud_scheduler_job" "schedule" {
  for_each  = local.events.schedules
  name      = each.key
  region    = var.region
  schedule  = each.value.cron
  time_zone = try(each.value.time_zone, "Etc/UTC")

  # Cloud Scheduler's own service agent publishes; no account of ours is involved.
  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    data       = base64encode(jsonencode(try(each.value.payload, {})))
  }

  depends_on = [google_project_service.enabled]
}

# --- What the Pub/Sub service agent needs ---

# Minting the push requests' OIDC tokens as the invoker.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent

  depends_on = [google_project_service.enabled]
}

# Dead-lettering: publish to the dead-letter topic and ack the message on the source
# subscription, each granted on that one resource.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(local.dead_letter_topics)
  topic    = google_pubsub_topic.topic[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.subscriptions_with_dead_letter
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}
