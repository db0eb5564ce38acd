#!/usr/bin/env bash
# Rebuilds the shipped model (models/default) from ../shared/data and the hand-labeled sets in tests/data,
# in one command. Needs python3 with torch and safetensors (pip install -r scripts/requirements-train.txt).
#
#   scripts/train_default.sh [OUT]            (default OUT = models/default: the shipped v8 recipe — five
#                                              teachers, a student distilled from them, then the refinement with
#                                              two of the teachers beside the student; docs/model_history.md:
#                                              "Distillation", "Real customer chat turns", "Hand-written
#                                              customer-service utterances", "Refinement with two teachers
#                                              beside the student";
#                                              v8 is the v7 recipe on the corpus with cs_written part 6)
#   DISTILL=0 scripts/train_default.sh OUT    (one run, no teachers: the v3 recipe plus the Taobao turns and
#                                              the hand-written customer-service utterances)
#   MLM_STEPS=0 DISTILL=0 scripts/train_default.sh OUT  (no masked-LM pretraining: the v2 recipe)
#   TAOBAO_REPEAT=N                           (times per epoch each hand-labeled Taobao customer turn is seen;
#                                              default 3)
#   CS_REPEAT=N                               (the same for tests/data/cs_written; default 3)
#   REFINE=0                                  (stop before the refinement stage: the v5 recipe)
#   REFINE_LR=X, HANDCAT_REPEAT=N             (refinement learning rate, default 1e-4; times per epoch each
#                                              hand-labeled category row is seen there, default 10)
#   EPOCHS=X, REFINE_EPOCHS=X                 (epochs of each fine-tune, default 3, and of the refinement,
#                                              default 1; fractions work)
#   MLM_STEPS=N MLM_STOP_AT=M                 (masked-LM schedule length, default 4000, and the step whose
#                                              encoder the student starts from, default 2600)
# A smoke run of every stage in minutes, to check a machine before the 5-hour run (the model is useless):
#   MLM_STEPS=40 MLM_STOP_AT=20 EPOCHS=0.02 REFINE_EPOCHS=0.02 scripts/train_default.sh build/smoke
#
# Steps: build xinsheng; weak category labels over the negative reviews (scripts/weak_categories.py);
# `xinsheng prepare` (normalized, deduplicated, dev splits held out, token ids); masked-LM pretraining of the
# encoder on the training texts (scripts/pretrain_mlm.py, a 4,000-step schedule: the encoder at step 2,600 is
# kept as build/mlm_2600); with DISTILL=0, scripts/train_torch.py from it (3 epochs, bf16 autocast, EMA 0.999,
# emotion classes weighted 1/sqrt(frequency), categories head on the token maximum, Taobao turns and
# hand-written customer-service utterances 3 times per epoch). With DISTILL=1 (the default): the
# masked-LM run goes on to step 4,000, then five teacher fine-tunes of that recipe, two at a time with one
# thread each (seeds 42, 43, 44 from the 2,600-step encoder; seed 42 from the 4,000-step one; seed 43 with
# emotion classes weighted 1/frequency from the 4,000-step one), then the student: the recipe from the
# 2,600-step encoder, its loss 0.1 x labels + 0.9 x the teachers' mean probabilities (every head, every row;
# the Taobao turns, the inquiry templates and the hand-written utterances learn their own labels);
# then (REFINE=1, the default; v6) one more epoch from that model with itself as the teacher (v7: itself and the
# teachers of seeds 42 and 43, averaged), the hand-labeled rows learning their own labels (categories 10 times
# per epoch at twice the categories loss weight);
# then the vocabulary is pruned to the tokens seen in training (scripts/prune_vocab.py);
# then the category, sentiment and emotion n-gram models are fitted for the new network (xinsheng
# train-categories, train-ngrams; ~10 s, ~2 min, ~10 s) and the learned risk models refitted; the policy and keyword files that ship with the model are kept; dev figures at the end
# (scripts/eval_dev.sh).
# Wall time on the 2-core machine of the README when nothing else runs: DISTILL=1 about 60 minutes of
# pretraining, 150 of teachers, 14 of teacher probabilities, 50 for the student and the refinement (v8's took 55
# minutes with one thread beside another run, 20 of them scoring its three teachers; alone with two threads it
# is shorter, not timed), about 5 hours; DISTILL=0 about
# 40 minutes of pretraining, 40-48 of fine-tuning and 20 of refinement.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-models/default}
cargo build --release --quiet
python3 scripts/weak_categories.py > build/weak_report.md
./target/release/xinsheng prepare --out build/dataset --max-length 160 \
  --weak-categories build/weak_categories.jsonl
recipe=(--data build/dataset --epochs "${EPOCHS:-3}" --bf16 --emotion-weight 0.5 --emotion-balance 0.5 --ema 0.999
  --repeat "taobao=${TAOBAO_REPEAT:-3}" "cs_written=${CS_REPEAT:-3}")
tmp=build/train_default
init=()
refine_teachers=()  # the refinement's teachers beside the model it starts from (DISTILL=1: two of the teachers)
if [ "${MLM_STEPS:=4000}" -gt 0 ]; then
  rm -rf build/mlm build/mlm_2600
  python3 scripts/pretrain_mlm.py --data build/dataset --out build/mlm --steps "$MLM_STEPS" \
    --stop-at "${MLM_STOP_AT:-2600}" --batch-size 128 --bf16 --span
  cp -r build/mlm build/mlm_2600
  init=(--init build/mlm_2600/encoder.pt)
fi
if [ "${DISTILL:=1}" = 1 ]; then
  [ "$MLM_STEPS" -gt 0 ] || { echo "DISTILL=1 needs the masked-LM encoders (MLM_STEPS > 0)" >&2; exit 2; }
  python3 scripts/pretrain_mlm.py --data build/dataset --out build/mlm --steps "$MLM_STEPS" \
    --batch-size 128 --bf16 --span --resume
  teacher() {  # OUT ENCODER extra options...
    local dir=$1 enc=$2; shift 2
    rm -rf "$dir"
    python3 scripts/train_torch.py "${recipe[@]}" --threads 1 --out "$dir" --init "$enc" "$@" > "$dir.log" 2>&1
  }
  teacher build/teacher_s42 build/mlm_2600/encoder.pt --seed 42 &
  teacher build/teacher_s43 build/mlm_2600/encoder.pt --seed 43 &
  wait
  teacher build/teacher_s44 build/mlm_2600/encoder.pt --seed 44 &
  teacher build/teacher_long build/mlm/encoder.pt --seed 42 &
  wait
  teacher build/teacher_long_b1 build/mlm/encoder.pt --seed 43 --emotion-balance 1.0 --threads 2
  teachers=(build/teacher_s42 build/teacher_long build/teacher_long_b1 build/teacher_s43 build/teacher_s44)
  refine_teachers=(build/teacher_s42 build/teacher_s43)
  rm -rf "$tmp"
  python3 scripts/train_torch.py "${recipe[@]}" --out "$tmp" "${init[@]}" --teacher "${teachers[@]}" \
    --distill-weight 0.9 --trust-labels taobao neutral_requests cs_written weibo_written
else
  rm -rf "$tmp"
  python3 scripts/train_torch.py "${recipe[@]}" --out "$tmp" "${init[@]}"
fi
if [ "${REFINE:=1}" = 1 ]; then
  # One more epoch from the finished model with itself as the teacher (self-distillation keeps what it reads
  # well), while the hand-labeled rows learn their own labels: the categories (tests/data/categories, part 3
  # included) 10 times per epoch at twice the categories loss weight, the Taobao turns and the written
  # utterances 3 times (docs/model_history.md, "Refinement").
  # With DISTILL=1 (v7) the teacher is the mean of the student and two of its teachers (seeds 42 and 43 from the
  # 2,600-step encoder), which have seen the current corpus (docs/model_history.md, "Refinement with two teachers beside the
  # student").
  refine=build/train_default_refine
  rm -rf "$refine"
  python3 scripts/train_torch.py --data build/dataset --out "$refine" --init-model "$tmp" \
    --teacher "$tmp" "${refine_teachers[@]}" --epochs "${REFINE_EPOCHS:-1}" --lr "${REFINE_LR:-1e-4}" --bf16 --emotion-weight 0.5 --emotion-balance 0.5 --ema 0.999 \
    --categories-weight 2 --repeat taobao=3 cs_written=3 "handcat=${HANDCAT_REPEAT:-10}" --distill-weight 0.9 \
    --trust-labels taobao neutral_requests cs_written handcat weibo_written
  tmp=$refine
fi
mkdir -p "$out"
cp "$tmp/config.json" "$tmp/model.safetensors" "$tmp/tokenizer.json" "$out/"
# Drop the embedding rows of tokens the network never saw in training; they become [UNK] (docs/model_history.md, "Vocabulary
# pruned to the tokens seen in training"). Before the n-gram fits, which read the network's probabilities.
python3 scripts/prune_vocab.py --model "$out" --data build/dataset --out "$out"
# The category n-gram model blended with the new network's categories head (docs/model_history.md, "Category n-grams").
./target/release/xinsheng --model "$out" --engine int8 train-categories --data build/dataset
# The sentiment and emotion n-gram models blended with their heads (docs/model_history.md, "Emotion and sentiment n-grams").
./target/release/xinsheng --model "$out" --engine int8 train-ngrams --head sentiment --data build/dataset --min-count 10
./target/release/xinsheng --model "$out" --engine int8 train-ngrams --head emotion --data build/dataset --min-count 3
scripts/train_risk.sh "$out"   # the learned escalation model reads the new model's rule decisions
scripts/eval_dev.sh "$out"
