// Shared by the model tests: the smallest Hugging Face config of each kind they start from.

/** A Llama-2-7B-shaped `config.json`: only the fields every family requires. */
export const llamaConfig = {
  model_type: 'llama',
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  intermediate_size: 11008,
  vocab_size: 32000,
  max_position_embeddings: 4096,
}
