// Page-level state that tests and styles can observe on <body>:
//   data-state    = "login" | "loading" | "ready" | "error"
//   data-villages = number of features in the village layer (when loaded)

/** @typedef {'login'|'loading'|'ready'|'error'} PageState */

/** @param {PageState} state */
export function setPageState(state) {
  document.body.dataset.state = state;
}

/** @param {number|null} n feature count, or null to clear */
export function setVillageCount(n) {
  if (n == null) delete document.body.dataset.villages;
  else document.body.dataset.villages = String(n);
}

/** Signed-in user ({name, role, company_id}) or null; shared by views. */
let currentUser = null;

export function getUser() {
  return currentUser;
}

export function setUser(user) {
  currentUser = user;
}
