import Foundation
import GRDB

/// The schema, one migration per release step. A migration that has shipped is never edited:
/// change the schema by registering a new one below it.
enum Migrations {
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: studies, trials, params, metrics, tags") { db in
      try db.create(table: "study") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("name", .text).notNull().indexed()
        t.column("specYAML", .text).notNull()
        t.column("specPath", .text)
        t.column("specHash", .text).notNull()
        t.column("objectiveMetric", .text).notNull()
        t.column("direction", .text).notNull()
        t.column("state", .text).notNull()
        t.column("stateReason", .text)
        t.column("createdAt", .datetime).notNull()
        t.column("updatedAt", .datetime).notNull()
        t.column("finishedAt", .datetime)
      }
      try db.create(table: "trial") { t in
        t.autoIncrementedPrimaryKey("id")
        t.belongsTo("study", onDelete: .cascade).notNull()
        t.column("number", .integer).notNull()
        t.column("tier", .text).notNull()
        t.column("state", .text).notNull()
        t.column("paramsJSON", .text).notNull()
        t.column("value", .double)
        t.column("retryOf", .integer).references("trial")
        t.column("sourceTrialId", .integer).references("trial")
        t.column("createdAt", .datetime).notNull()
        t.column("startedAt", .datetime)
        t.column("finishedAt", .datetime)
        t.column("exitCode", .integer)
        t.column("signal", .integer)
        t.column("reason", .text)
        t.column("pid", .integer)
        t.column("processStartTicks", .integer)
        t.column("runDirectory", .text)
        t.column("malformedLines", .integer).notNull().defaults(to: 0)
        t.uniqueKey(["studyId", "number"])
      }
      try db.create(table: "param") { t in
        t.belongsTo("trial", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("value", .text).notNull()
        t.column("numericValue", .double)
        t.primaryKey(["trialId", "name"])
      }
      try db.create(table: "metric") { t in
        t.belongsTo("trial", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("step", .integer).notNull()
        t.column("value", .double).notNull()
        t.column("timestamp", .integer).notNull()
      }
      try db.create(index: "metric_by_trial_name_step", on: "metric", columns: ["trialId", "name", "step"])
      try db.create(table: "tag") { t in
        t.belongsTo("trial", onDelete: .cascade).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["trialId", "key"])
      }
    }
    migrator.registerMigration("v2: model registry") { db in
      try db.create(table: "modelVersion") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("modelName", .text).notNull()
        t.column("version", .integer).notNull()
        t.belongsTo("trial", onDelete: .restrict).notNull()
        t.belongsTo("study", onDelete: .cascade).notNull()
        t.column("value", .double)
        t.column("metricsJSON", .text).notNull()
        t.column("paramsJSON", .text).notNull()
        t.column("conditions", .text).notNull()
        t.column("artifactPath", .text)
        t.column("createdAt", .datetime).notNull()
        t.uniqueKey(["modelName", "version"])
      }
      try db.create(table: "modelAlias") { t in
        t.column("modelName", .text).notNull()
        t.column("alias", .text).notNull()
        t.column("version", .integer).notNull()
        t.column("updatedAt", .datetime).notNull()
        t.primaryKey(["modelName", "alias"])
      }
    }
    migrator.registerMigration("v3: indexes for study summaries and sorted trial lists") { db in
      try db.create(index: "trial_by_study_state_tier", on: "trial", columns: ["studyId", "state", "tier"])
      try db.create(
        index: "trial_by_study_tier_state_value", on: "trial", columns: ["studyId", "tier", "state", "value"])
      try db.create(index: "trial_by_study_value", on: "trial", columns: ["studyId", "value"])
    }
    migrator.registerMigration("v4: mirror outbox for MLflow") { db in
      // A study mirrored to a tracking server, with the experiment once it is resolved.
      try db.create(table: "mirrorTarget") { t in
        t.primaryKey("studyId", .integer).references("study", onDelete: .cascade)
        t.column("uri", .text).notNull()
        t.column("experimentName", .text).notNull()
        t.column("experimentId", .text)
        // Random, per store: tags every mirrored run so a run created by an attempt whose
        // answer was lost is found again instead of duplicated.
        t.column("storeKey", .text).notNull()
      }
      // Writes to send, in order. Metric points are not copied here: the metric table is
      // append-only and each mirrored run keeps how far into it (by rowid) it has sent.
      try db.create(table: "outbox") { t in
        t.autoIncrementedPrimaryKey("id")
        t.belongsTo("study", onDelete: .cascade).notNull()
        t.column("trialId", .integer)
        t.column("kind", .text).notNull()
        t.column("payload", .text)
        t.column("createdAt", .datetime).notNull()
        t.column("attempts", .integer).notNull().defaults(to: 0)
        t.column("lastError", .text)
        // Set when the server refused the write for good (a 4xx other than 429).
        t.column("deadAt", .datetime)
      }
      try db.create(index: "outbox_pending", on: "outbox", columns: ["deadAt", "id"])
      try db.create(table: "mirroredRun") { t in
        t.primaryKey("trialId", .integer).references("trial", onDelete: .cascade)
        t.column("studyId", .integer).notNull()
        t.column("runId", .text).notNull()
        t.column("artifactURI", .text).notNull()
        t.column("metricsSentThrough", .integer).notNull().defaults(to: 0)
        t.column("ended", .boolean).notNull().defaults(to: false)
      }
      try db.create(table: "mirroredModelVersion") { t in
        t.primaryKey("modelVersionId", .integer).references("modelVersion", onDelete: .cascade)
        t.column("remoteVersion", .text).notNull()
      }
    }
    migrator.registerMigration("v5: metric points by trial in insertion order, for the mirror's watermark") { db in
      // Index entries carry the rowid, so `trialId = ? AND rowid > ?` is a range seek.
      try db.create(index: "metric_by_trial", on: "metric", columns: ["trialId"])
    }
    migrator.registerMigration("v6: the executor's handle of a trial replaces its pid and start ticks") { db in
      try db.alter(table: "trial") { t in t.add(column: "handle", .text) }
      // The shapes TrialHandle encodes: {"local":{"pid":…,"startTicks":…}} and {"external":{}}.
      try db.execute(
        sql: """
          UPDATE trial SET handle = CASE
            WHEN pid > 0 THEN json_object('local', json_object('pid', pid, 'startTicks', processStartTicks))
            WHEN pid = 0 THEN '{"external":{}}'
          END
          """)
      try db.alter(table: "trial") { t in
        t.drop(column: "pid")
        t.drop(column: "processStartTicks")
      }
    }
    migrator.registerMigration("v7: experiments and runs tracked through hpod's MLflow API") { db in
      try db.create(table: "trackingExperiment") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("name", .text).notNull().unique()
        t.column("lifecycleStage", .text).notNull().defaults(to: "active")
        t.column("createdAt", .integer).notNull()
        t.column("updatedAt", .integer).notNull()
      }
      // MLflow's Default experiment, where runs go that name none.
      let now = Int64(Date().timeIntervalSince1970 * 1000)
      try db.execute(
        sql: "INSERT INTO trackingExperiment (id, name, createdAt, updatedAt) VALUES (0, 'Default', ?, ?)",
        arguments: [now, now])
      try db.create(table: "trackingExperimentTag") { t in
        t.belongsTo("experiment", inTable: "trackingExperiment", onDelete: .cascade).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["experimentId", "key"])
      }
      // Runs a user creates through the API, outside any study (a study's trials are its runs).
      try db.create(table: "trackedRun") { t in
        t.autoIncrementedPrimaryKey("id")
        t.column("runUuid", .text).notNull().unique()
        t.belongsTo("experiment", inTable: "trackingExperiment", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("userId", .text).notNull()
        t.column("status", .text).notNull()
        t.column("startTime", .integer).notNull()
        t.column("endTime", .integer)
        t.column("lifecycleStage", .text).notNull().defaults(to: "active")
      }
      try db.create(table: "trackedParam") { t in
        t.belongsTo("run", inTable: "trackedRun", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["runId", "name"])
      }
      try db.create(table: "trackedMetric") { t in
        t.belongsTo("run", inTable: "trackedRun", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("step", .integer).notNull()
        t.column("value", .double).notNull()
        t.column("timestamp", .integer).notNull()
      }
      try db.create(index: "trackedMetric_by_run", on: "trackedMetric", columns: ["runId", "name"])
      try db.create(table: "trackedTag") { t in
        t.belongsTo("run", inTable: "trackedRun", onDelete: .cascade).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["runId", "key"])
      }
    }
    migrator.registerMigration("v8: registered models made through the MLflow API before any version") { db in
      try db.create(table: "registeredModel") { t in
        t.primaryKey("name", .text)
        t.column("description", .text).notNull().defaults(to: "")
        t.column("createdAt", .integer).notNull()
      }
    }
    migrator.registerMigration("v9: repeats of a configuration over seeds or folds") { db in
      try db.alter(table: "trial") { t in
        t.add(column: "repeatOf", .integer).references("trial", onDelete: .cascade)
        t.add(column: "repeatIndex", .integer).notNull().defaults(to: 0)
        t.add(column: "seed", .integer)
      }
      try db.create(index: "trial_on_repeatOf", on: "trial", columns: ["repeatOf"])
      // Re-runs made before repeats existed belong to the configuration of their chain's root.
      try db.execute(
        sql: """
          WITH RECURSIVE chain(id, root) AS (
            SELECT id, id FROM trial WHERE retryOf IS NULL
            UNION ALL SELECT trial.id, chain.root FROM trial JOIN chain ON trial.retryOf = chain.id)
          UPDATE trial SET repeatOf = (SELECT root FROM chain WHERE chain.id = trial.id)
          WHERE retryOf IS NOT NULL
          """)
    }
    migrator.registerMigration("v10: repeats found by study in the index") { db in
      // Listing a study's trials asks whether it has repeats: one index probe, not a scan.
      try db.create(index: "trial_on_study_repeat", on: "trial", columns: ["studyId", "repeatIndex"])
    }
    migrator.registerMigration("v11: NaN metric values, kept as MLflow keeps them") { db in
      // SQLite turns a NaN into NULL: a NaN point is stored as 0 with isNaN set (StoredMetricValue).
      try db.alter(table: "metric") { t in t.add(column: "isNaN", .boolean).notNull().defaults(to: false) }
      try db.alter(table: "trackedMetric") { t in t.add(column: "isNaN", .boolean).notNull().defaults(to: false) }
    }
    migrator.registerMigration("v12: MLflow 3's logged models, run outputs and inputs, datasets") { db in
      // A point logged again exactly is kept once (as MLflow keeps it): found by its step.
      try db.create(index: "trackedMetric_by_run_name_step", on: "trackedMetric", columns: ["runId", "name", "step"])
      // A model `log_model` records (MLflow's LoggedModel): its id is `m-<32 hex>`, its
      // artifacts are under hpod's home (`logged-models/<id>/artifacts`).
      try db.create(table: "loggedModel") { t in
        t.primaryKey("id", .text)
        t.belongsTo("experiment", inTable: "trackingExperiment", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("modelType", .text).notNull().defaults(to: "")
        t.column("sourceRunId", .text).notNull().defaults(to: "")
        // MLflow's LoggedModelStatus numbers: 0 unspecified, 1 pending, 2 ready, 3 upload failed.
        t.column("status", .integer).notNull()
        t.column("statusMessage", .text)
        t.column("lifecycleStage", .text).notNull().defaults(to: "active")
        t.column("createdAt", .integer).notNull()
        t.column("updatedAt", .integer).notNull()
      }
      try db.create(index: "loggedModel_by_experiment", on: "loggedModel", columns: ["experimentId", "createdAt"])
      try db.create(table: "loggedModelParam") { t in
        t.belongsTo("model", inTable: "loggedModel", onDelete: .cascade).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["modelId", "key"])
      }
      try db.create(table: "loggedModelTag") { t in
        t.belongsTo("model", inTable: "loggedModel", onDelete: .cascade).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["modelId", "key"])
      }
      // Metrics a run logged for a model (log-batch with a model_id), NaN kept as `metric` keeps it.
      try db.create(table: "loggedModelMetric") { t in
        t.belongsTo("model", inTable: "loggedModel", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("step", .integer).notNull()
        t.column("value", .double).notNull()
        t.column("isNaN", .boolean).notNull().defaults(to: false)
        t.column("timestamp", .integer).notNull()
        t.column("runId", .text).notNull()
        t.column("datasetName", .text)
        t.column("datasetDigest", .text)
      }
      try db.create(index: "loggedModelMetric_by_model", on: "loggedModelMetric", columns: ["modelId", "name"])
      // Run ids are a trial's (`hpod-trial-<id>`) or a tracked run's uuid: text, as the API names them.
      try db.create(table: "runModelOutput") { t in
        t.column("runId", .text).notNull()
        t.belongsTo("model", inTable: "loggedModel", onDelete: .cascade).notNull()
        t.column("step", .integer).notNull()
      }
      try db.create(index: "runModelOutput_by_run", on: "runModelOutput", columns: ["runId"])
      try db.create(table: "runModelInput") { t in
        t.column("runId", .text).notNull()
        t.column("modelId", .text).notNull()
        t.primaryKey(["runId", "modelId"])
      }
      // Datasets (`log_input`), one per experiment, name and digest, as MLflow keeps them.
      try db.create(table: "trackingDataset") { t in
        t.autoIncrementedPrimaryKey("id")
        t.belongsTo("experiment", inTable: "trackingExperiment", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("digest", .text).notNull()
        t.column("sourceType", .text).notNull()
        t.column("source", .text).notNull()
        t.column("schema", .text)
        t.column("profile", .text)
        t.uniqueKey(["experimentId", "name", "digest"])
      }
      try db.create(table: "runDatasetInput") { t in
        t.column("runId", .text).notNull()
        t.belongsTo("dataset", inTable: "trackingDataset", onDelete: .cascade).notNull()
        t.column("tags", .text).notNull().defaults(to: "[]")
        t.primaryKey(["runId", "datasetId"])
      }
    }
    migrator.registerMigration("v13: MLflow's registry for any run or logged model") { db in
      // A version made through the MLflow API of a run that is no trial, or of a logged model
      // (`models:/m-<id>`); for a version hpod registered (`modelVersion`), the row holds what
      // the API changed since (description, stage). Numbers are shared with `modelVersion`.
      try db.create(table: "registryVersion") { t in
        t.column("modelName", .text).notNull()
        t.column("version", .integer).notNull()
        t.column("isHpodVersion", .boolean).notNull().defaults(to: false)
        t.column("runId", .text).notNull().defaults(to: "")
        t.column("source", .text).notNull().defaults(to: "")
        t.column("storageLocation", .text).notNull().defaults(to: "")
        t.column("modelId", .text)
        t.column("description", .text).notNull().defaults(to: "")
        t.column("stage", .text).notNull().defaults(to: "None")
        t.column("createdAt", .integer).notNull()
        t.column("updatedAt", .integer).notNull()
        t.primaryKey(["modelName", "version"])
      }
      try db.create(table: "registryVersionTag") { t in
        t.column("modelName", .text).notNull()
        t.column("version", .integer).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["modelName", "version", "key"])
      }
      try db.create(table: "registeredModelTag") { t in
        t.column("modelName", .text).notNull()
        t.column("key", .text).notNull()
        t.column("value", .text).notNull()
        t.primaryKey(["modelName", "key"])
      }
      try db.alter(table: "registeredModel") { t in t.add(column: "updatedAt", .integer) }
    }
    migrator.registerMigration("v14: checkpoints the trials report") { db in
      // `hpod {"checkpoint": "epoch-7", "step": 7}`: a checkpoint the trial saved in its
      // folder (HPOD_CHECKPOINT_DIR), kept per attempt; `freed` once hpod deleted its file.
      try db.create(table: "checkpoint") { t in
        t.autoIncrementedPrimaryKey("id")
        t.belongsTo("trial", onDelete: .cascade).notNull()
        t.column("name", .text).notNull()
        t.column("step", .integer).notNull()
        t.column("createdAt", .datetime).notNull()
        t.column("freed", .boolean).notNull().defaults(to: false)
      }
    }
    migrator.registerMigration("v15: an experiment's artifact location, as experiments/create gives it") { db in
      // NULL: MLflow's default, hpod's own artifact proxy (`mlflow-artifacts:/<experiment id>`).
      try db.alter(table: "trackingExperiment") { t in t.add(column: "artifactLocation", .text) }
    }
    migrator.registerMigration("v16: notes on studies") { db in
      // A run's note is its `mlflow.note.content` tag (as MLflow keeps it); a study's is here.
      try db.create(table: "studyNote") { t in
        t.primaryKey("studyId", .integer).references("study", onDelete: .cascade)
        t.column("text", .text).notNull()
        t.column("updatedAt", .datetime).notNull()
      }
    }
    registerMetricLast(&migrator)
    return migrator
  }
}
