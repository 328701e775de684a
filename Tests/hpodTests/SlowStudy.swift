import Foundation

/// A study whose trial prints `steps` points of `score` (its x), `pause` seconds apart: written
/// into `folder` as trial.sh and study.yaml; returns the spec's path.
func writeSlowStudy(
  in folder: String, name: String, trials: Int, steps: Int, pause: String, parallelism: Int, seed: Int
) throws -> String {
  let script = "\(folder)/trial.sh"
  try
    "#!/bin/sh\nfor s in $(seq 1 \(steps)); do echo \"hpod {\\\"step\\\": $s, \\\"score\\\": $1}\"; sleep \(pause); done\n"
    .write(toFile: script, atomically: true, encoding: .utf8)
  chmod(script, 0o755)
  let spec = "\(folder)/study.yaml"
  try """
  name: \(name)
  objective: {metric: score, direction: maximize}
  search: {algorithm: random, seed: \(seed), max_trials: \(trials), parallelism: \(parallelism)}
  parameters:
    x: {type: float, min: 0, max: 1}
  trial: {command: [./trial.sh, "{x}"]}
  """.write(toFile: spec, atomically: true, encoding: .utf8)
  return spec
}

/// A new empty folder under the temporary directory, named `prefix-<uuid>`.
func makeTestFolder(_ prefix: String) throws -> String {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  return folder
}
