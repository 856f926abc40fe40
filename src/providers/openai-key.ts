/**
 * Local OpenAI-compatible servers (vLLM, Ollama, whisper.cpp, Kokoro…) often need no key;
 * api.openai.com always does. A missing key is a configuration error only for the latter.
 */
export function lacksRequiredKey(baseUrl: string, apiKey: string | undefined): boolean {
  return !apiKey && /api\.openai\.com/.test(baseUrl);
}
