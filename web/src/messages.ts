/** What people read when something goes wrong: from the API's problem `code` and `detail`. */

import { ApiError } from "./api";
import { formatTime } from "./dom";

export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : "Something went wrong. Please try again.";
  }
  const p = error.problem;
  switch (error.code) {
    case "QUOTA_EXCEEDED":
      return p.reset_time
        ? `You have reached your quota. It resets on ${formatTime(p.reset_time)}.`
        : "You have reached your quota.";
    case "RATE_LIMITED":
      return `You are sending requests too quickly. Try again in ${error.retryAfter ?? 1} s.`;
    case "CONTENT_BLOCKED":
      return "This prompt was blocked by the content policy. Change the wording and try again. Nothing was charged.";
    case "PROVIDER_UNAVAILABLE":
      return `The generation service is temporarily unavailable. Nothing was charged; try again${
        error.retryAfter ? ` in ${error.retryAfter} s` : " shortly"
      }.`;
    case "UNAVAILABLE":
      return "The service is temporarily unavailable. Please try again shortly.";
    case "UNAUTHENTICATED":
      return "Your session has ended. Please sign in again.";
    case "PERMISSION_DENIED":
      return p.detail ?? "Your account is not allowed to do this.";
    case "ACCOUNT_ERASING":
      return "This account is being deleted.";
    case "IDEMPOTENCY_IN_PROGRESS":
      return "This request is already being processed.";
    case "NOT_FOUND":
      return "That item no longer exists.";
    case "NETWORK":
      return "The server could not be reached. Check your connection and try again.";
    case "INVALID_ARGUMENT": {
      const fields = (p.errors ?? []).map((e) => `${e.field.replace(/_/g, " ")}: ${e.message}`);
      return fields.length ? `Please check the form. ${fields.join("; ")}.` : (p.detail ?? "Invalid input.");
    }
    default:
      return p.detail ?? `Unexpected error (${error.status}).`;
  }
}

/** Firebase Auth errors (sign-in and sign-up forms). */
export function describeAuth(error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  const messages: Record<string, string> = {
    "auth/invalid-credential": "Wrong email or password.",
    "auth/wrong-password": "Wrong email or password.",
    "auth/user-not-found": "Wrong email or password.",
    "auth/invalid-email": "That email address is not valid.",
    "auth/email-already-in-use": "An account with this email already exists. Sign in instead.",
    "auth/weak-password": "Choose a password of at least 6 characters.",
    "auth/missing-password": "Enter a password.",
    "auth/too-many-requests": "Too many attempts. Wait a moment and try again.",
    "auth/network-request-failed": "The sign-in service could not be reached.",
    "auth/user-disabled": "This account is disabled.",
  };
  return messages[code] ?? "Sign-in failed. Please try again.";
}
