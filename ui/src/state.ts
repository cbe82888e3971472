// What the screens share: the current identity.
export const state = {
  identity: localStorage.getItem("postern.identity") ?? "",
  setIdentity(address: string) {
    this.identity = address;
    localStorage.setItem("postern.identity", address);
  },
};
