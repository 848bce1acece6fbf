package agent

// EstimateTokens exposes the token estimate that budgets prompts to the
// cost measurement in the external tests.
var EstimateTokens = estimateTokens

// LLMBudget is the payload budget, in estimated tokens.
const LLMBudget = llmBudget
