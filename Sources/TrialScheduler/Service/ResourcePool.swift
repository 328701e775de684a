public import Foundation

/// The GPUs and CPUs of this machine that local trials are placed on, shared by every study
/// of an hpod (`--gpus`, `--cpus`). A trial that declares `resources:` waits, in arrival
/// order, until what it needs is free, and gets its own devices: no two running trials share
/// a GPU, and the CPUs they declare never add up to more than there are.
public actor ResourcePool {
  /// The GPU device ids trials are placed on, as CUDA_VISIBLE_DEVICES names them.
  nonisolated public let gpus: [String]
  nonisolated public let cpus: Int
  private var freeGPUs: [String]
  private var freeCPUs: Int
  private var waiters: [(StudySpec.Resources, CheckedContinuation<Placement, Never>)] = []

  /// What a running trial holds.
  public struct Placement: Sendable, Hashable {
    public var gpus: [String]
    public var cpus: Int
  }

  /// A trial that asks for more than the pool has could never start.
  public struct TooLarge: Error, CustomStringConvertible {
    public var description: String
  }

  public init(gpus: [String], cpus: Int) {
    self.gpus = gpus
    self.cpus = max(cpus, 1)
    freeGPUs = gpus
    freeCPUs = max(cpus, 1)
  }

  /// The devices `nvidia-smi -L` lists (`GPU 0: ...` lines), none where it is absent.
  public static func detectedGPUs() -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["nvidia-smi", "-L"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return [] }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return [] }
    return output.split(whereSeparator: \.isNewline).compactMap { line in
      guard line.hasPrefix("GPU "), let colon = line.firstIndex(of: ":") else { return nil }
      return String(line[line.index(line.startIndex, offsetBy: 4)..<colon])
    }
  }

  /// Waits until `resources` are free and takes them.
  public func acquire(_ resources: StudySpec.Resources) async throws(TooLarge) -> Placement {
    guard resources.gpus <= gpus.count else {
      throw TooLarge(
        description:
          "the trial needs \(resources.gpus) GPU\(resources.gpus == 1 ? "" : "s") and this hpod has \(gpus.count) (\(gpus.isEmpty ? "none found by nvidia-smi" : gpus.joined(separator: ","))); start it with --gpus, or lower resources.gpus"
      )
    }
    guard resources.cpus <= cpus else {
      throw TooLarge(
        description: "the trial needs \(resources.cpus) CPUs and this hpod has \(cpus) (--cpus); lower resources.cpus")
    }
    if waiters.isEmpty, let placement = take(resources) { return placement }
    return await withCheckedContinuation { waiters.append((resources, $0)) }
  }

  public func release(_ placement: Placement) {
    freeGPUs.append(contentsOf: placement.gpus)
    freeGPUs.sort { gpus.firstIndex(of: $0)! < gpus.firstIndex(of: $1)! }
    freeCPUs += placement.cpus
    // In arrival order: a large request at the head is not overtaken by smaller ones.
    while let (resources, waiter) = waiters.first, let placement = take(resources) {
      waiters.removeFirst()
      waiter.resume(returning: placement)
    }
  }

  private func take(_ resources: StudySpec.Resources) -> Placement? {
    guard freeGPUs.count >= resources.gpus, freeCPUs >= resources.cpus else { return nil }
    let taken = Array(freeGPUs.prefix(resources.gpus))
    freeGPUs.removeFirst(resources.gpus)
    freeCPUs -= resources.cpus
    return Placement(gpus: taken, cpus: resources.cpus)
  }

  /// The GPUs held by running trials now.
  public var gpusInUse: Int { gpus.count - freeGPUs.count }
  /// The CPUs held by running trials now.
  public var cpusInUse: Int { cpus - freeCPUs }
}
