// The same 3- and 5-step flows as Restate services (TypeScript SDK, plain JS): each step is
// a journaled ctx.run, durable in Restate's log before the next one starts.
import * as restate from "@restatedev/restate-sdk";

const flow = (name, steps) =>
  restate.service({
    name,
    handlers: {
      run: async (ctx, input) => {
        let state = input ?? {};
        for (let i = 1; i <= steps; i++) {
          state = await ctx.run(`step ${i}`, () => ({ ...state, [`step${i}`]: "done" }));
        }
        return state;
      },
    },
  });

restate.endpoint().bind(flow("flow3", 3)).bind(flow("flow5", 5)).listen(9080);
