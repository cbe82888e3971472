// What the screens share: the current identity, and the mailbox on show.
export const state = {
  identity: localStorage.getItem("postern.identity") ?? "",
  mailbox: "inbox",
  setIdentity(address: string) {
    this.identity = address;
    localStorage.setItem("postern.identity", address);
  },
};
