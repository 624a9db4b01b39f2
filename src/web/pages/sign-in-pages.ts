import { type Html, html } from "../html.ts";
import { alert, layout } from "../layout.ts";

export interface FormState {
  csrf: string;
  error?: string;
  email?: string;
}

function passwordRules(): Html {
  return html`<p class="hint" id="password-hint">At least 10 characters. A few unrelated words make a good one.</p>`;
}

export function signInPage(state: FormState & { signUpOpen: boolean }): Html {
  return layout(
    { title: "Sign in", csrf: state.csrf },
    html`<section class="card narrow">
  <h1>Sign in</h1>
  ${alert(state.error)}
  <form method="post" action="/sign-in">
    <input type="hidden" name="_csrf" value="${state.csrf}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="${state.email ?? ""}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
  </form>
  ${state.signUpOpen ? html`<p>New here? <a href="/sign-up">Create an account</a>.</p>` : html`<p class="hint">No password yet? Ask your operator for an invitation link.</p>`}
</section>`,
  );
}

export function signUpPage(state: FormState): Html {
  return layout(
    { title: "Create an account", csrf: state.csrf },
    html`<section class="card narrow">
  <h1>Create an account</h1>
  ${alert(state.error)}
  <form method="post" action="/sign-up">
    <input type="hidden" name="_csrf" value="${state.csrf}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="email" required value="${state.email ?? ""}" autofocus>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-hint">
    ${passwordRules()}
    <button type="submit">Create the account</button>
  </form>
  <p>Have an account? <a href="/sign-in">Sign in</a>.</p>
</section>`,
  );
}

export function invitePage(state: FormState & { token: string; email: string }): Html {
  return layout(
    { title: "Set your password", csrf: state.csrf },
    html`<section class="card narrow">
  <h1>Set your password</h1>
  <p>For <strong>${state.email}</strong>. This link works once.</p>
  ${alert(state.error)}
  <form method="post" action="/invite/${state.token}">
    <input type="hidden" name="_csrf" value="${state.csrf}">
    <input type="text" name="username" autocomplete="username" value="${state.email}" hidden>
    <label for="password">New password</label>
    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" aria-describedby="password-hint" autofocus>
    ${passwordRules()}
    <button type="submit">Set the password and sign in</button>
  </form>
</section>`,
  );
}

export function errorPage(csrf: string, status: number, message: string): Html {
  const title =
    status === 404
      ? "Not found"
      : status === 403
        ? "Not allowed"
        : status === 429
          ? "Too many attempts"
          : "Something went wrong";
  return layout(
    { title, csrf },
    html`<section class="card narrow">
  <h1>${title}</h1>
  <p role="alert">${message}</p>
  <p><a href="/">Back to the console</a></p>
</section>`,
  );
}
