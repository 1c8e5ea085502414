// A hash router: "#/cdc/equipment/12" finds the route "/cdc/equipment/:id" and renders its view with
// {params: {id: "12"}, query, signal}. Leaving a page aborts its signal, which stops its refreshes.

export function compile(routes) {
  return routes.map((route) => {
    const names = [];
    const pattern = route.path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return "([^/]+)";
    });
    return { ...route, regex: new RegExp(`^${pattern}$`), names };
  });
}

export function match(compiled, hash) {
  const [path, search = ""] = (hash.replace(/^#/, "") || "/").split("?");
  for (const route of compiled) {
    const found = route.regex.exec(path);
    if (found) {
      const params = Object.fromEntries(route.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { route, params, query: Object.fromEntries(new URLSearchParams(search)), path };
    }
  }
  return null;
}

export function go(path) {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = path;
}
