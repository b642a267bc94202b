output "api_url" {
  description = "Public base URL of the API (once DNS points at lb_ip and the certificate is ACTIVE)."
  value       = "https://${var.domain}"
}

output "lb_ip" {
  description = "Address to point the domain's A record at."
  value       = google_compute_global_address.api.address
}

output "media_bucket" {
  description = "Bucket holding the generated media."
  value       = google_storage_bucket.media.name
}

output "functions" {
  description = "Per function: Cloud Run service, service account, ingress and direct URL (not reachable from the internet)."
  value = {
    for fn, cfg in local.functions : fn => {
      service         = local.run_services[fn]
      service_account = google_service_account.function[fn].email
      public          = cfg.public
      uri             = google_cloudfunctions2_function.fn[fn].service_config[0].uri
    }
  }
}

output "invoker_service_account" {
  description = "Identity to put in the OIDC token of Cloud Tasks / Eventarc deliveries to private functions."
  value       = google_service_account.invoker.email
}

output "video_jobs_queue" {
  description = "Full name of the video-jobs queue."
  value       = google_cloud_tasks_queue.queue["video-jobs"].id
}

output "source_object" {
  description = "Bundle the functions were built from (its name is the content hash)."
  value       = "gs://${google_storage_bucket.sources.name}/${google_storage_bucket_object.functions.name}"
}

output "web_url" {
  description = "The web studio (served from the web bucket through Cloud CDN on the API's origin)."
  value       = "https://${var.domain}/"
}
