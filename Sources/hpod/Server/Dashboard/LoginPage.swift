import Foundation

/// The page a browser gets when the daemon has a token and the browser has no session yet.
struct LoginPage {
  let next: String?
  let problem: String?

  func page() -> Page {
    Page.simple(
      title: "Log in", crumbs: [("log in", nil)],
      content: """
        <h1>This hpod needs its token</h1>
        \(problem.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? HTML.empty)
        <form method="post" action="/login" class="controls">
        <input type="hidden" name="next" value="\(DashboardAuth.safeNext(next))">
        <label for="token">token<input id="token" name="token" type="password" autocomplete="current-password" required></label>
        <button type="submit">Log in</button></form>
        <p>The token is the one given to <code>hpod serve --token</code> (or <code>HPOD_TOKEN</code>). You can also open \
        any page with <code>?token=TOKEN</code> once: the browser keeps a session cookie and the token leaves the address.</p>
        """)
  }
}
