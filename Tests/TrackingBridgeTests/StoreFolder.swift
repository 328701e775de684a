import Foundation
import TrackingBridge

/// A new store in a folder of its own under the temporary directory.
struct StoreFolder {
  let root: String
  let database: AppDatabase

  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("hpod-bridge-\(UUID().uuidString)").path
    database = try AppDatabase.open(at: "\(root)/hpod.sqlite")
  }
}
