# mkmodel.py VOCAB.gguf OUT.gguf [GGUF_PY_DIR]
#
# Writes a tiny llama-architecture GGUF (17 MB) whose "weights" are made, not
# trained, for TestAgent_RealServer against llama-server (README, section
# LLM): no model can be downloaded here. Its vocabulary is the one llama.cpp
# ships in models/ggml-vocab-llama-spm.gguf,
# every layer is zero (the residual passes the last token's embedding), and
# the embeddings and output head are set so that, under a JSON grammar, each
# string value is "a": after a quote it prefers a, after a letter a quote,
# after "[" a "]". It exists to test the OpenAI-compatible protocol, not text;
# the same input gives the same output.
# Needs numpy and yaml (Debian: python3-numpy python3-yaml) and llama.cpp's gguf-py.
import sys
import numpy as np

vocab_path, out_path = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    sys.path.insert(0, sys.argv[3])
import gguf
r = gguf.GGUFReader(vocab_path)
w = gguf.GGUFWriter(out_path, "llama")

# copy tokenizer metadata
tokens = [bytes(r.fields["tokenizer.ggml.tokens"].parts[i]).decode("utf-8") for i in r.fields["tokenizer.ggml.tokens"].data]
scores = [float(r.fields["tokenizer.ggml.scores"].parts[i][0]) for i in r.fields["tokenizer.ggml.scores"].data]
types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
w.add_tokenizer_model("llama")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
for k, add in [("tokenizer.ggml.bos_token_id", w.add_bos_token_id), ("tokenizer.ggml.eos_token_id", w.add_eos_token_id),
               ("tokenizer.ggml.unknown_token_id", w.add_unk_token_id)]:
    if k in r.fields:
        add(int(r.fields[k].parts[-1][0]))
w.add_chat_template("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}<|assistant|>\n")

n_vocab, n_embd, n_ff, n_layer, n_head = len(tokens), 64, 128, 1, 4
w.add_name("herald-protocol-test")
w.add_context_length(8192)
w.add_embedding_length(n_embd)
w.add_block_count(n_layer)
w.add_feed_forward_length(n_ff)
w.add_head_count(n_head)
w.add_head_count_kv(n_head)
w.add_rope_dimension_count(n_embd // n_head)
w.add_layer_norm_rms_eps(1e-5)
w.add_file_type(gguf.LlamaFileType.ALL_F32)

ids = {t: i for i, t in enumerate(tokens)}
quote, letter, comma, rbrace, lbr, rbr = ids['"'], ids['a'], ids[','], ids['}'], ids['['], ids[']']
# The state is what the last token ends with (a grammar often takes tokens
# such as ':"' or ' [' whole): direction 0 a quote, 1 a letter or digit,
# 2 "[", 3 anything else.
emb = np.zeros((n_vocab, n_embd), dtype=np.float32)
for i, t in enumerate(tokens):
    end = t.replace("\u2581", " ")[-1:] if t else ""
    if end == '"':
        emb[i, 0] = 1
    elif end.isalnum():
        emb[i, 1] = 1
    elif end == "[":
        emb[i, 2] = 1
    else:
        emb[i, 3] = 1
out = np.zeros((n_vocab, n_embd), dtype=np.float32)
s = 8.0  # hidden is RMS-normed: a one-hot of 64 dims becomes 8 in that dim
out[letter, 0] = 3.0            # after a quote: a
out[comma, 0] = 2.0             # ...or, where a letter cannot be, a comma
out[rbrace, 0] = 1.0            # ...or the end
out[quote, 1] = 3.0             # after the letter: close the string
out[quote, 3] = 3.0             # after ":" and the like: open one
out[rbr, 2] = 3.0               # after "[": end the array
out[rbrace, 3] = 1.0
w.add_tensor("token_embd.weight", emb)
w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
w.add_tensor("output.weight", out)
z = lambda *shape: np.zeros(shape, dtype=np.float32)
for i in range(n_layer):
    w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
    for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
        w.add_tensor(f"blk.{i}.{t}.weight", z(n_embd, n_embd))
    w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
    w.add_tensor(f"blk.{i}.ffn_gate.weight", z(n_ff, n_embd))
    w.add_tensor(f"blk.{i}.ffn_up.weight", z(n_ff, n_embd))
    w.add_tensor(f"blk.{i}.ffn_down.weight", z(n_embd, n_ff))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", out_path, "vocab", n_vocab, "ids", quote, letter, comma, rbrace, lbr, rbr)
