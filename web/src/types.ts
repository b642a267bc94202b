/** The API's response shapes the studio reads (see GET /v1/openapi.json). */

export interface SignedUrl {
  url: string;
  expire_time: string;
}

export interface Asset {
  id: string;
  type: "image" | "video";
  state: "ACTIVE" | "DELETED";
  prompt: string;
  negative_prompt?: string | null;
  aspect_ratio?: string | null;
  seed?: number | null;
  width: number;
  height: number;
  content_type: string;
  size_bytes: number;
  create_time: string;
  delete_time?: string | null;
  purge_time?: string | null;
  duration_seconds?: number | null;
  urls?: { original: SignedUrl; thumbnail: SignedUrl; poster?: SignedUrl | null } | null;
}

export interface UsageCounter {
  used: number;
  limit: number;
  reset_time: string;
}

export interface Usage {
  images: UsageCounter;
  videos: UsageCounter;
  cost_this_month: { currency: string; amount: string };
}

export interface GenerateResponse {
  assets: Asset[];
  usage: Usage;
}

export interface AssetPage {
  assets: Asset[];
  next_page_token: string;
}

export interface BatchSignUrls {
  urls: Record<string, SignedUrl>;
  errors: Record<string, string>;
}

export interface Job {
  id: string;
  type: "video";
  state: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
  prompt: string;
  duration_seconds: number;
  progress: { percent: number; stage: string; eta_seconds?: number | null };
  error?: { code: string; message: string } | null;
  asset?: Asset | null;
  create_time: string;
}
