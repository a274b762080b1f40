// One Vercel AI SDK call against the gateway; prints {text, toolCalls, toolResults, finishReason}.
// Env: API (openai-chat | openai-responses | anthropic), MODE (generate | stream | tool),
//      GATEWAY_URL, GATEWAY_KEY, MODEL, PROMPT.
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";

const { API, MODE, GATEWAY_URL, GATEWAY_KEY, MODEL, PROMPT } = process.env;
const baseURL = `${GATEWAY_URL}/v1`;

function model() {
  if (API === "openai-chat") return createOpenAI({ baseURL, apiKey: GATEWAY_KEY }).chat(MODEL);
  if (API === "openai-responses") return createOpenAI({ baseURL, apiKey: GATEWAY_KEY })(MODEL);
  if (API === "anthropic") return createAnthropic({ baseURL, apiKey: GATEWAY_KEY })(MODEL);
  throw new Error(`unknown API ${API}`);
}

const weather = tool({
  description: "Current weather in a city",
  inputSchema: jsonSchema({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  }),
  execute: async ({ city }) => `sunny in ${city}`,
});

async function main() {
  const common = { model: model(), prompt: PROMPT, maxRetries: 0 };
  if (MODE === "stream") {
    const result = streamText({ ...common, onError: ({ error }) => { throw error; } });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    return { text, finishReason: await result.finishReason, usage: await result.usage };
  }
  if (MODE === "tool") {
    const result = await generateText({ ...common, tools: { weather }, stopWhen: stepCountIs(3) });
    return {
      text: result.text,
      finishReason: result.finishReason,
      toolCalls: result.steps.flatMap((s) => s.toolCalls.map((c) => ({ name: c.toolName, input: c.input }))),
      toolResults: result.steps.flatMap((s) => s.toolResults.map((r) => r.output)),
    };
  }
  const result = await generateText(common);
  return { text: result.text, finishReason: result.finishReason, usage: result.usage };
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (err) => { console.error(err?.stack ?? String(err)); process.exit(1); },
);
