/** Firebase Auth (modular SDK) and the API client bound to its ID tokens. */

import { initializeApp } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  initializeAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
  type Auth,
  type User,
} from "firebase/auth";

import { Api } from "./api";

/** Served by the local gateway at /config.json, and by the hosting in production. */
export interface WebConfig {
  apiKey: string;
  projectId: string;
  authDomain?: string;
  /** Set only locally: the Firebase Auth emulator's URL. */
  authEmulatorUrl?: string | null;
}

export interface Session {
  auth: Auth;
  api: Api;
  user(): User | null;
  isAdmin(): Promise<boolean>;
  signIn(email: string, password: string): Promise<void>;
  signUp(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
  onChange(listener: (user: User | null) => void): void;
}

export async function loadConfig(): Promise<WebConfig> {
  const response = await fetch("/config.json", { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`The app configuration could not be loaded (${response.status}).`);
  return (await response.json()) as WebConfig;
}

export function startSession(config: WebConfig): Session {
  const app = initializeApp({
    apiKey: config.apiKey,
    projectId: config.projectId,
    authDomain: config.authDomain ?? `${config.projectId}.firebaseapp.com`,
  });
  // initializeAuth without a popup/redirect resolver: email+password needs no iframe or popup.
  const auth = initializeAuth(app, { persistence: browserLocalPersistence });
  if (config.authEmulatorUrl) {
    // The warning banner is off: it is injected with inline styles, which our CSP refuses.
    connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
  }
  const api = new Api({
    tokens: async (force) => {
      const user = auth.currentUser;
      if (user === null) return null;
      const result = await user.getIdTokenResult(force);
      return { token: result.token, expiresAt: Date.parse(result.expirationTime) };
    },
  });
  return {
    auth,
    api,
    user: () => auth.currentUser,
    async isAdmin() {
      const user = auth.currentUser;
      return user !== null && (await user.getIdTokenResult()).claims.role === "admin";
    },
    async signIn(email, password) {
      api.reset();
      await signInWithEmailAndPassword(auth, email, password);
    },
    async signUp(email, password) {
      api.reset();
      await createUserWithEmailAndPassword(auth, email, password);
    },
    async signOut() {
      await signOut(auth);
      api.reset();
    },
    onChange(listener) {
      onAuthStateChanged(auth, listener);
    },
  };
}
