"""The records steps hand each other: one frozen dataclass per JSON file that one step writes and
another (or the run summary, or the report) reads, with `to_json` / `from_json` (`record.Record`).

| module       | record                 | file (in the artifact)  | written by     | read by                          |
|--------------|------------------------|-------------------------|----------------|----------------------------------|
| ingestion    | IngestionAccount       | ingestion.json          | ImageExampleGen, DropLabelIssues | LabelBalance, PredictionWriter, summary |
| balance      | BalanceReport          | label_balance.json      | LabelBalance   | PromotionGate, summary, report   |
| balance      | TrainingHints          | training_hints.json     | LabelBalance   | Trainer, Tuner                   |
| embeddings   | EmbeddingIndex, Shard  | embeddings.json, shards/*.npz | Embeddings | DataQuality                      |
| quality      | QualityRecord          | data_quality.json       | DataQuality    | LabelBalance, ErrorAnalysis, DropLabelIssues, summary, report |
| training     | TrainingRecord, Trial  | training.json, trials.json | Trainer, Tuner | summary, report              |
| evaluation   | ErrorAnalysisRecord    | error_analysis.json     | ErrorAnalysis  | PromotionGate, summary, report   |
| evaluation   | DecisionRecord         | decision.json           | PromotionGate  | summary, report                  |
| edge         | EdgeRecord             | edge_export.json        | EdgeExport     | summary, report                  |
| prediction   | BatchSummary           | batch_summary.json      | PredictionWriter | run_batch_predict.py           |

File names and artifact types are in `components/artifacts.py`; `record.read` and `record.write` move
records between artifacts and memory.
"""
