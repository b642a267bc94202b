/** Sign in and sign up with email and password (Firebase Auth). */

import { h, show } from "../dom";
import { describeAuth } from "../messages";
import type { Session } from "../session";

export function authView(root: HTMLElement, session: Session, mode: "signin" | "signup"): void {
  const signup = mode === "signup";
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", {
    id: "password",
    type: "password",
    name: "password",
    minlength: 6,
    autocomplete: signup ? "new-password" : "current-password",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert" });
  const submit = h("button", { type: "submit" }, signup ? "Create account" : "Sign in");
  const form = h(
    "form",
    { class: "card auth" },
    h("h2", {}, signup ? "Create your account" : "Sign in"),
    h("label", { for: "email" }, "Email"),
    email,
    h("label", { for: "password" }, "Password"),
    password,
    submit,
    error,
    h(
      "p",
      {},
      signup ? "Already have an account? " : "New here? ",
      h("a", { href: signup ? "#/signin" : "#/signup" }, signup ? "Sign in" : "Create an account"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      if (signup) await session.signUp(email.value, password.value);
      else await session.signIn(email.value, password.value);
      location.hash = "#/generate";
    } catch (failure) {
      error.textContent = describeAuth(failure);
    } finally {
      submit.disabled = false;
    }
  });
  show(root, form);
  email.focus();
}
