import TrackingBridge

/// A study's or a run's note on its page: the text, and a small form that edits it (a POST
/// back to the page, so it works without JavaScript).
enum NoteView {
  /// The note block; `action` is where the form posts.
  static func block(_ note: String?, action: String, of what: String) -> HTML {
    let shown: HTML =
      note.map { "<p class=\"note-text\" style=\"white-space:pre-wrap\">\($0)</p>" }
      ?? "<p class=\"empty\">No note on this \(what) yet.</p>"
    return """
      <section class="note" aria-labelledby="note-title"><h2 id="note-title">Note</h2>\(shown)
      <details><summary>\(note == nil ? "Add a note" : "Edit the note")</summary>
      <form method="post" action="\(action)" class="controls"><label for="note-input" class="visually-hidden">note on this \(what)</label>\
      <textarea id="note-input" name="note" rows="4" cols="60" maxlength="\(Note.maxLength)">\(note ?? "")</textarea>
      <button type="submit">Save note</button></form></details></section>
      """
  }

  /// A note in a table cell: its first line, cut to `limit` characters, the whole in its title.
  static func cell(_ note: String?, limit: Int = 60) -> HTML {
    guard let note else { return "<td></td>" }
    let firstLine = note.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
    let cut = firstLine.count > limit || firstLine.count < note.count
    let shown = cut ? String(firstLine.prefix(limit)) + "…" : firstLine
    return "<td class=\"note\" title=\"\(note)\">\(shown)</td>"
  }
}
