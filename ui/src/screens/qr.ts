import { api, ScanPreview } from "../api";
import { bytesToB64, h, put, replace, short, when } from "../dom";
import { showError } from "../main";
import { state } from "../state";

/// Meeting: my invite as a QR code and a link; scanning theirs with the camera, from an image,
/// or from a pasted link. Nothing is added until the person confirms.
export async function qrScreen(root: HTMLElement) {
  put(root, h("h1", {}, "Meet someone"));
  const identity = state.identity;
  const invite = await api.createInvite(identity);
  // The invite lives as long as the screen shows it: leaving the screen withdraws it (it also
  // expires on its own after a few minutes).
  const withdraw = () => void api.withdrawInvite(identity, invite.id).catch(() => undefined);
  const leave = () => {
    if (!location.hash.startsWith("#/qr")) {
      withdraw();
      window.removeEventListener("hashchange", leave);
    }
  };
  window.addEventListener("hashchange", leave);
  window.addEventListener("pagehide", withdraw, { once: true });
  const code = h("div", { class: "qr", id: "my-qr", role: "img", "aria-label": "Your invite as a QR code" });
  code.innerHTML = invite.svg;
  const link = h("input", { id: "my-link", readonly: true, value: invite.link });
  put(root,
    h("section", { class: "card" }, h("h2", {}, "Show this to them"), code, h("label", { for: "my-link" }, `Or send this link (one use, until ${when(invite.expires_at)})`), link, h("p", { class: "hint" }, "Whoever uses it once becomes your contact, with keys checked both ways. Treat it as public.")),
  );

  const preview = h("section", { id: "scan-result", "aria-live": "polite" });
  const offer = (p: ScanPreview) => {
    replace(preview,
      h("h2", {}, p.display_name || short(p.address)),
      h("p", {}, p.address),
      h("p", { class: "fingerprint" }, `Key ${p.fingerprint}`),
      p.expires_at ? h("p", {}, `Invite valid until ${when(p.expires_at)}`) : null,
      h(
        "button",
        {
          type: "button",
          id: "confirm-add",
          onclick: async () => {
            try {
              const c = await api.acceptScanned(state.identity, p.text);
              replace(preview, h("p", { class: "ok", id: "added" }, `Added ${c.display_name || short(c.address)} (${c.trust_label}).`));
            } catch (e) {
              showError(root, e);
            }
          },
        },
        "Add this contact",
      ),
    );
  };
  const pasted = h("input", { id: "paste", placeholder: "postern:…" });
  const file = h("input", { type: "file", id: "scan-file", accept: "image/png,image/jpeg" });
  const video = h("video", { id: "camera", playsinline: true, muted: true, hidden: true });
  const camera = h("button", { type: "button", id: "camera-button" }, "Scan with the camera");
  camera.addEventListener("click", async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
      const tick = async () => {
        if (!document.body.contains(video)) return stream.getTracks().forEach((t) => t.stop());
        const w = Math.min(video.videoWidth, 960);
        const hgt = Math.round((video.videoHeight * w) / Math.max(video.videoWidth, 1));
        if (w > 0 && hgt > 0) {
          canvas.width = w;
          canvas.height = hgt;
          ctx.drawImage(video, 0, 0, w, hgt);
          const rgba = ctx.getImageData(0, 0, w, hgt).data;
          const gray = new Uint8Array(w * hgt);
          for (let i = 0; i < gray.length; i++) gray[i] = (rgba[4 * i] * 77 + rgba[4 * i + 1] * 150 + rgba[4 * i + 2] * 29) >> 8;
          try {
            const p = await api.scanFrame(w, hgt, bytesToB64(gray));
            stream.getTracks().forEach((t) => t.stop());
            video.hidden = true;
            return offer(p);
          } catch {
            // No code in this frame yet.
          }
        }
        setTimeout(tick, 250);
      };
      void tick();
    } catch (e) {
      showError(root, { kind: "LocalIo", message: `the camera is not available (${(e as Error).message ?? e}); use an image or paste the link` });
    }
  });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      offer(await api.scanImage(bytesToB64(new Uint8Array(await f.arrayBuffer()))));
    } catch (e) {
      showError(root, e);
    }
  });
  const pasteForm = h("form", { class: "inline" }, h("label", { for: "paste" }, "Paste a link"), pasted, h("button", { type: "submit" }, "Check"));
  pasteForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      offer(await api.readScanned(pasted.value));
    } catch (e) {
      showError(root, e);
    }
  });
  put(root, h("section", { class: "card" }, h("h2", {}, "Scan theirs"), camera, video, h("label", { for: "scan-file" }, "Or open a picture of it"), file, pasteForm), preview);
  put(root, await handedOut(root, identity, invite.id));
}

/// The invites this identity handed out before, and who redeemed each (name and key, to
/// compare), with a way to undo it.
async function handedOut(root: HTMLElement, identity: string, current: number): Promise<HTMLElement> {
  const list = h("ul", { class: "list", id: "invites" });
  const draw = async () => {
    const items = (await api.invites(identity)).filter((i) => i.id !== current && i.state === "redeemed");
    replace(list,
      ...items.map((i) => {
        const r = i.redeemed_by!;
        return h(
          "li",
          { class: r.still_a_contact ? "" : "undone" },
          h("span", { class: "from" }, r.display_name || short(r.address)),
          h("span", { class: "fingerprint" }, r.fingerprint ? `Key ${r.fingerprint}` : ""),
          h("time", {}, when(i.redeemed_at)),
          r.still_a_contact
            ? h("button", { type: "button", class: "undo", onclick: async () => {
                try {
                  await api.undoInvite(identity, i.id);
                  await draw();
                } catch (e) {
                  showError(root, e);
                }
              } }, "Undo")
            : h("span", { class: "badge" }, "removed"),
        );
      }),
    );
  };
  await draw();
  return h("section", { class: "card" }, h("h2", {}, "Who used your invites"), list);
}
